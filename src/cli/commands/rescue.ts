/** `bootstrap rescue HOST`: boot a broken host into its provider's rescue system (issue 13). Wiring only. */
import { FLAKE_OPTION, JSON_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';

export const rescueCommands: CommandSpec[] = [
  {
    name: 'rescue',
    summary: "boot a host into its provider's rescue system through the provider API, wait for it, pin its host key",
    description:
      "Uses the host manifest's [provider] section (kind hetzner-cloud, hetzner-robot or ovh; server;\n" +
      'credentials: a secret store name prefix, e.g. NAME/token for hetzner-cloud). Arms the rescue system\n' +
      'with the -i key authorized for root, resets the server, waits for SSH and pins the rescue system\'s\n' +
      'host key after you confirm it (none of these APIs exposes it; scripts: --host-key SHA256:…; --yes\n' +
      'alone is refused), and makes the next boot a boot from disk again where the provider needs that.\n' +
      'Then `bootstrap rebuild HOST` or `recover HOST` installs it; `rebuild --via-rescue` does both.',
    positionals: [{ name: 'HOST', description: 'the host (hosts/HOST/bootstrap.toml)', required: true }],
    options: [
      { name: 'target', short: 't', type: 'string', placeholder: 'root@HOST', description: "where the rescue answers (default: the manifest's target)" },
      { name: 'identity', short: 'i', type: 'string', placeholder: 'FILE', description: 'private key to log in with; its .pub is authorized in the rescue system' },
      { name: 'host-key', type: 'string', placeholder: 'SHA256:…', description: "the rescue system's host key fingerprint, when the provider does not expose it" },
      { name: 'yes', short: 'y', type: 'boolean', description: 'do not ask (needs --host-key unless the provider exposes the key)' },
      { name: 'wait-timeout', type: 'string', placeholder: 'SECONDS', description: 'how long to wait for the rescue system (default 600)' },
      { name: 'ssh-config', type: 'string', placeholder: 'FILE', description: "ssh config to resolve the target with (ssh -F FILE -G): an alias, a ProxyJump route; default: the manifest's [ssh] config, else ~/.ssh/config" },
      { name: 'resume', type: 'boolean', description: 'continue after the last finished step of the last run' },
      { name: 'from', type: 'string', placeholder: 'STEP', description: 'restart at a step (rescue-enable, rescue-reset, rescue-wait, rescue-boot-disk)' },
      FLAKE_OPTION,
      JSON_OPTION,
    ],
    examples: ['bootstrap rescue web1 -i ~/.ssh/id_ed25519', 'bootstrap rescue web1 -i ~/.ssh/id_ed25519 --yes --host-key SHA256:…'],
    load: () => import('./rescue-run.js').then((m) => ({ run: m.runRescueCommand })),
  },
];

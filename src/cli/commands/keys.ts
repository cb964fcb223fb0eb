/** `bootstrap keys ensure|show`: a host's identity (SSH host key, age recipient, LUKS passphrase). Wiring only. */
import { DRY_RUN_OPTION, FLAKE_OPTION, JSON_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';

const HOST = { name: 'HOST', description: 'host name (letters, digits, dashes), e.g. web1', required: true };

export const keysCommands: CommandSpec[] = [
  {
    name: 'keys ensure',
    summary: "create or reuse a host's SSH host key, age identity and LUKS passphrase; register its recipient",
    description:
      'Keys live in the secret store from bootstrap.toml ([secrets] store = "local" age vault, or "onepassword").\n' +
      'An existing key is reused; --rotate replaces the SSH key (re-encrypt your secrets afterwards).\n' +
      'The host is then added to .sops.yaml (an anchor and the rules that name it) and `sops updatekeys`\n' +
      'runs on the affected files, or to secrets.nix for agenix ([sops] mode).',
    positionals: [HOST],
    options: [
      { name: 'rotate', type: 'boolean', description: 'replace the SSH host key (and separate age key) even if they exist' },
      { name: 'luks', type: 'boolean', description: 'also create a LUKS disk passphrase (kept when it exists)' },
      JSON_OPTION,
      DRY_RUN_OPTION,
      FLAKE_OPTION,
    ],
    examples: ['bootstrap keys ensure web1', 'bootstrap keys ensure web1 --luks --json', 'bootstrap keys ensure web1 --rotate --dry-run'],
    load: () => import('../../keys/ensure-command.js'),
  },
  {
    name: 'keys show',
    summary: "print a host's public identity: SSH public key, fingerprint, store reference, age recipient",
    positionals: [HOST],
    options: [JSON_OPTION, FLAKE_OPTION],
    examples: ['bootstrap keys show web1 --json'],
    load: () => import('../../keys/show-command.js'),
  },
];

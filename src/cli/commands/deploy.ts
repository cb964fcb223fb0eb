/** `bootstrap deploy`: a health-gated switch with a dead-man rollback on the host. Wiring only (src/workflow/deploy). */
import { DRY_RUN_OPTION, FLAKE_OPTION, JSON_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';
import { DEPLOY_STEP_IDS } from '../../workflow/deploy/step-ids.js';

export const deployCommands: CommandSpec[] = [
  {
    name: 'deploy',
    summary: 'switch installed hosts to the flake, health-checked, rolled back by the host itself unless confirmed',
    description:
      'Builds each host\'s system here (or on the host: --build-on remote), copies it (through your ssh config\'s\n' +
      'jump hosts, every key pinned; from the fleet\'s attic cache when the host trusts it, pushing what the cache\n' +
      'lacks with `attic push`, else streamed from here), arms a rollback timer ON\n' +
      'THE HOST, switches, then checks the host over a NEW connection (the health report plus the checks its\n' +
      'manifest declares in [health]). Only then is the timer stopped and the system made the boot default. A\n' +
      'host that already runs and boots the system is only checked: nothing is copied, switched or armed. A\n' +
      'failing check rolls back now; if bootstrap dies or the link is lost, the host rolls back by itself after\n' +
      '--confirm-timeout. A config that would lock you out of SSH (sshd off, its port moved or firewalled, your\n' +
      'key gone) is refused before anything on the host changes, unless --allow-lockout.\n' +
      'A rollback is verified over a new connection. Exit 0 deployed, 4 rolled back (each\n' +
      'host verified on its previous generation), 1 failed, 2 bad input. Hosts are reached as status reaches\n' +
      "them: the manifest's target with its [ssh] config, or its [tailscale] name when that resolves here.",
    positionals: [{ name: 'HOST…', description: 'hosts to deploy (or --hosts a,b / --all)' }, ...Array.from({ length: 63 }, (_, i) => ({ name: `HOST${i + 2}`, description: '', hidden: true }))],
    options: [
      { name: 'hosts', type: 'string', placeholder: 'A,B,C', description: 'hosts to deploy' },
      { name: 'all', type: 'boolean', description: 'every host with a manifest in the flake' },
      { name: 'parallel', type: 'string', placeholder: 'N', description: 'hosts deployed at a time (default 1)' },
      { name: 'canary', type: 'string', placeholder: 'N', description: 'deploy the first N hosts first; stop the rest if one of them is not deployed' },
      { name: 'confirm-timeout', type: 'string', placeholder: 'SECONDS', description: 'the host rolls back by itself unless confirmed within this (default 90)' },
      { name: 'build-on', type: 'string', placeholder: 'local|remote', description: 'where the system is built (default local)' },
      { name: 'allow-lockout', type: 'boolean', description: 'switch even when the new config would lock you out of SSH (recorded in the deploy journal)' },
      { name: 'resume', type: 'boolean', description: 'continue after the last finished step of the last deploy of each host' },
      { name: 'from', type: 'string', placeholder: 'STEP', description: `restart at a step (${DEPLOY_STEP_IDS.join(', ')})` },
      { name: 'identity', short: 'i', type: 'string', placeholder: 'FILE', description: 'private key to log in with (default: ssh-agent, then ~/.ssh/id_*)' },
      { name: 'timeout', type: 'string', placeholder: 'SECONDS', description: 'connect timeout per connection (default 10)' },
      { name: 'ssh-config', type: 'string', placeholder: 'FILE', description: "ssh config to resolve the targets with (ssh -F FILE -G), for every connection and the nix copy; default: the manifest's [ssh] config, else ~/.ssh/config" },
      { name: 'via', type: 'string', placeholder: 'tailnet|target', description: "the route to each host: its manifest's [tailscale] name, or its target (default: the tailnet name when it resolves here)" },
      DRY_RUN_OPTION,
      FLAKE_OPTION,
      JSON_OPTION,
    ],
    examples: ['bootstrap deploy web1', 'bootstrap deploy --all --parallel 4 --canary 1', 'bootstrap deploy web1 --dry-run', 'bootstrap deploy web1 --confirm-timeout 180 --json'],
    load: () => import('./deploy-run.js'),
  },
];

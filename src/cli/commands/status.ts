/** `bootstrap status`: the health report of installed hosts. Wiring only (src/workflow/status). */
import { FLAKE_OPTION, JSON_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';

export const statusCommands: CommandSpec[] = [
  {
    name: 'status',
    summary: 'health report of installed hosts: system, disks, secrets, cache, backups, time, space',
    description:
      'For each host (from its manifest: target and port), one pinned SSH connection runs one read-only\n' +
      'script and reports each check as ok, warn, fail or n/a with a reason and a fix. A host whose key\n' +
      'changed or that cannot be reached fails; nothing is ever asked. Exit 1 when a host fails (or, with\n' +
      '--strict, warns), 2 for bad input. Each host is also compared with what the flake evaluates to\n' +
      'now (no build): up to date, drift, needs reboot, unhealthy or unreachable, with the running\n' +
      'revision, the age of its generation and the last auto-upgrade (--no-drift skips it). The route is the\n' +
      "manifest's: its target resolved with its [ssh] config, or its [tailscale] name when that resolves here\n" +
      '(the report says "via": "tailnet" or "target").',
    // Up to 64 host names; the slots after the first are parsed but not listed in the help.
    positionals: [{ name: 'HOST…', description: 'hosts to check (or --hosts a,b / --all)' }, ...Array.from({ length: 63 }, (_, i) => ({ name: `HOST${i + 2}`, description: '', hidden: true }))],
    options: [
      { name: 'hosts', type: 'string', placeholder: 'A,B,C', description: 'hosts to check' },
      { name: 'all', type: 'boolean', description: 'every host with a manifest in the flake' },
      { name: 'parallel', type: 'string', placeholder: 'N', description: 'hosts checked at a time (default 8)' },
      { name: 'strict', type: 'boolean', description: 'warnings also make the exit code 1' },
      { name: 'no-drift', type: 'boolean', description: "skip the comparison with the flake's current evaluation (drift, needs reboot, auto-upgrade)" },
      { name: 'watch', type: 'string', placeholder: 'SECONDS', description: 'check again every SECONDS until Ctrl-C (--json: one line per round)' },
      { name: 'identity', short: 'i', type: 'string', placeholder: 'FILE', description: 'private key to log in with (default: ssh-agent, then ~/.ssh/id_*)' },
      { name: 'timeout', type: 'string', placeholder: 'SECONDS', description: 'connect timeout per host (default 10)' },
      { name: 'ssh-config', type: 'string', placeholder: 'FILE', description: "ssh config to resolve the targets with (ssh -F FILE -G); default: the manifest's [ssh] config (recorded from --ssh-config at install), else ~/.ssh/config" },
      { name: 'via', type: 'string', placeholder: 'tailnet|target', description: "the route to each host: its manifest's [tailscale] name, or its target (default: the tailnet name when it resolves here)" },
      FLAKE_OPTION,
      JSON_OPTION,
    ],
    examples: ['bootstrap status web1', 'bootstrap status --all --parallel 16', 'bootstrap status --hosts web1,db1 --json --strict', 'bootstrap status --all --watch 60'],
    load: () => import('./status-run.js'),
  },
];

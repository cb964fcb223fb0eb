/** `bootstrap probe`: read a target's hardware over one SSH round trip. Wiring only. */
import { JSON_OPTION, type OptionSpec } from '../args.js';
import type { CommandSpec } from '../spec.js';
import { choiceOptions } from '../choice-options.js';

/** SSH connection flags shared by every command that reaches a target (the SSH install choices). */
export const SSH_OPTIONS: OptionSpec[] = choiceOptions('identity', 'hostKey', 'acceptNewHostKey', 'timeout', 'passwordEnv', 'sshConfig');

export const probeCommands: CommandSpec[] = [
  {
    name: 'probe',
    summary: "read a target's hardware over SSH (one connection, one command)",
    description:
      'Sends a POSIX sh probe script on stdin over a single SSH exec channel and prints the HardwareReport.\n' +
      'Host keys are checked against ~/.ssh/known_hosts and FLAKE/.bootstrap/known_hosts; a new key is shown\n' +
      'and asked about on a terminal (--host-key or --accept-new-host-key in scripts) and then pinned in\n' +
      '.bootstrap/known_hosts. A changed key stops the run.\n' +
      'TARGET is resolved with your ssh config as `ssh -G TARGET` resolves it (an alias: HostName, Port, User,\n' +
      'IdentityFile, IdentityAgent, ProxyJump); each jump host\'s key is checked and pinned like the target\'s.\n' +
      'With --from-facter, converts a nixos-facter report (no SSH).',
    positionals: [{ name: 'TARGET', description: 'user@host[:port] or an ssh config alias, IPv6 in brackets (default user root, port 22, unless the ssh config says otherwise)' }],
    options: [
      ...SSH_OPTIONS,
      { name: 'from-facter', type: 'string', placeholder: 'FILE', description: 'convert a nixos-facter report instead of probing' },
      { name: 'out', short: 'o', type: 'string', placeholder: 'FILE', description: 'also write the JSON report to FILE' },
      { name: 'flake', type: 'string', placeholder: 'DIR', description: 'flake whose .bootstrap/known_hosts pins host keys (default: the current directory if it is a flake, else $XDG_STATE_HOME/nixos-bootstrap)' },
      JSON_OPTION,
    ],
    examples: [
      'bootstrap probe root@203.0.113.7',
      'bootstrap probe root@127.0.0.1:2222 -i ~/.ssh/id_ed25519 --host-key SHA256:… --json',
      'bootstrap probe --from-facter facter.json --json',
      'bootstrap probe web1 --ssh-config ./ssh_config   # an alias with ProxyJump through a bastion',
    ],
    load: () => import('./probe-run.js'),
  },
];

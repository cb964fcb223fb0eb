/** `bootstrap plan HOST`: the files a host needs, from its hardware. Wiring only. */
import { FLAKE_OPTION, JSON_OPTION, type OptionSpec } from '../args.js';
import type { CommandSpec } from '../spec.js';
import { SSH_OPTIONS } from './probe.js';

/** The hardware choices a plan takes; new-host, rebuild and recover take the same flags. */
export const PLAN_CHOICE_OPTIONS: OptionSpec[] = [
  { name: 'profile', type: 'string', placeholder: 'NAME', description: 'hardware profile (default: the best match)' },
  { name: 'layout', type: 'string', placeholder: 'NAME', description: 'disk layout (default: the profile\'s)' },
  { name: 'disk', type: 'string', placeholder: 'ID', description: 'install disk: by-id path, kernel name or /dev path (needed when several fit)' },
  { name: 'second-disk', type: 'string', placeholder: 'ID', description: 'second disk for two-disk layouts' },
  { name: 'swap', type: 'string', placeholder: 'SIZE', description: 'swap size, e.g. 8G or 0 (default: from memory)' },
  { name: 'hibernate', type: 'boolean', description: 'swap large enough to hibernate, used as the resume device' },
  { name: 'encrypt', type: 'boolean', description: 'encrypted layout (LUKS); default layout luks-btrfs' },
  { name: 'subvolume', type: 'string', multiple: true, placeholder: 'NAME[=PATH]', description: 'extra btrfs subvolume' },
];

export const planCommands: CommandSpec[] = [
  {
    name: 'plan',
    summary: 'plan hosts/HOST (disko.nix, hardware.nix, default.nix, facts.json, bootstrap.toml) from a hardware report',
    description:
      'Matches a hardware profile, chooses a disk layout and the install disk, and shows every file with its\n' +
      'action (create, update with a diff, unchanged, skip because user-owned). Nothing is written without --write.\n' +
      'The report comes from exactly one of --target (probe over SSH), --report or --facter.',
    positionals: [{ name: 'HOST', description: 'host name: one lowercase label, e.g. web1', required: true }],
    options: [
      { name: 'target', short: 't', type: 'string', placeholder: 'USER@HOST[:PORT]', description: 'probe this machine over SSH' },
      { name: 'report', type: 'string', placeholder: 'FILE', description: 'a saved report (`bootstrap probe TARGET --json -o FILE`)' },
      { name: 'facter', type: 'string', placeholder: 'FILE', description: 'a nixos-facter report' },
      ...PLAN_CHOICE_OPTIONS,
      { name: 'login-key', type: 'string', multiple: true, placeholder: 'KEY|FILE.pub', description: "a public key that may log in as root, put in a new default.nix (default: the -i key's .pub, else the ssh-agent's keys)" },
      { name: 'write', type: 'boolean', description: 'write the files into the flake' },
      FLAKE_OPTION,
      JSON_OPTION,
      ...SSH_OPTIONS,
    ],
    examples: [
      'bootstrap plan web1 --target root@203.0.113.7',
      'bootstrap plan web1 --report web1.json --json',
      'bootstrap plan laptop --facter facter.json --layout luks-btrfs --subvolume containers --write',
      'bootstrap plan db1 --report db1.json --disk nvme0n1 --second-disk nvme1n1 --layout mdadm-raid1',
    ],
    load: () => import('./plan-run.js'),
  },
];

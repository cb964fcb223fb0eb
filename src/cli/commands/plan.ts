/** `bootstrap plan HOST`: the files a host needs, from its hardware. Wiring only. */
import { FLAKE_OPTION, JSON_OPTION, type OptionSpec } from '../args.js';
import type { CommandSpec } from '../spec.js';
import { choiceOption, choiceOptions } from '../choice-options.js';
import { SSH_OPTIONS } from './probe.js';

/** The hardware choices a plan takes; new-host takes the same flags (workflow/install/choices.ts). */
export const PLAN_CHOICE_KEYS = ['profile', 'layout', 'disk', 'secondDisk', 'swap', 'hibernate', 'encrypt', 'subvolumes'] as const;
export const PLAN_CHOICE_OPTIONS: OptionSpec[] = choiceOptions(...PLAN_CHOICE_KEYS);

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
      choiceOption('target', 'probe this machine over SSH'),
      { name: 'report', type: 'string', placeholder: 'FILE', description: 'a saved report (`bootstrap probe TARGET --json -o FILE`)' },
      { name: 'facter', type: 'string', placeholder: 'FILE', description: 'a nixos-facter report' },
      ...PLAN_CHOICE_OPTIONS,
      choiceOption('loginKeys', "a public key that may log in as root, put in a new default.nix (default: the -i key's .pub, else the ssh-agent's keys)"),
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

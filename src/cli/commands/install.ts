/** `bootstrap new-host`, `rebuild`, `recover`: install a host end to end. Wiring only. */
import { DRY_RUN_OPTION, FLAKE_OPTION, JSON_OPTION, type OptionSpec } from '../args.js';
import type { CommandSpec } from '../spec.js';
import { INSTALL_STEP_IDS } from '../../workflow/install/step-ids.js';
import { choiceOption, choiceOptions } from '../choice-options.js';
import { PLAN_CHOICE_OPTIONS } from './plan.js';
import { SSH_OPTIONS } from './probe.js';

/** Issue 13: boot the host into its provider's rescue system first (the manifest's [provider]). */
const VIA_RESCUE: OptionSpec = { name: 'via-rescue', type: 'boolean', description: "first boot the host into its provider's rescue system through the provider API ([provider] in its manifest; see `bootstrap rescue`); adds the steps rescue-enable, rescue-reset, rescue-wait, rescue-boot-disk before write" };

/** How an install command runs that is not an answer (see NOT_ANSWERS in install-flags.test.ts). */
const ANSWERS: OptionSpec = { name: 'answers', type: 'string', placeholder: 'FILE', description: 'answers file (TOML or JSON, keys as the flags in camelCase)' };
const RESUME: OptionSpec = { name: 'resume', type: 'boolean', description: 'continue after the last finished step of the last run' };
const FROM: OptionSpec = { name: 'from', type: 'string', placeholder: 'STEP', choices: INSTALL_STEP_IDS, description: `restart at a step (${INSTALL_STEP_IDS.join(', ')})` };

/** The install choices every install command takes (flags and help from workflow/install/choices.ts), with how it runs. */
const RUN: OptionSpec[] = [
  ...choiceOptions('copyHostKeys', 'loginKeys', 'loginUser', 'skipRekey', 'allowNoLogin', 'allowLockout', 'buildOn', 'noDiskoDeps'),
  ANSWERS,
  ...choiceOptions('yes', 'confirmDisk'),
  RESUME,
  FROM,
  ...choiceOptions('waitTimeout', 'postKexecPort', 'kexecFrom', 'kexecImage', 'kexecUrl', 'kexecSha256', 'phaseTimeouts'),
  DRY_RUN_OPTION,
  FLAKE_OPTION,
  JSON_OPTION,
  ...SSH_OPTIONS,
];

export const installCommands: CommandSpec[] = [
  {
    name: 'new-host',
    summary: 'the wizard: probe a machine, plan its files, make its keys, install NixOS, verify it',
    description:
      'Asks every question first (flags and --answers FILE answer them too), probes the target read-only,\n' +
      'shows the plan and the disk it will erase, and acts only after you type the host name\n' +
      '(scripts: --yes --confirm-disk BY-ID). Every step is journaled; --resume continues a failed run.\n' +
      'With an attic cache in bootstrap.toml ([cache] url and server, `bootstrap cache setup`) the target\n' +
      'substitutes the system from it; with `attic` on PATH what the cache lacks is pushed there first.\n' +
      'The journal and --json record the bytes sent from here per installer phase.',
    positionals: [{ name: 'HOST', description: 'host name, e.g. web1 (asked when missing)' }],
    options: [choiceOption('target'), ...PLAN_CHOICE_OPTIONS, ...RUN],
    examples: [
      'bootstrap new-host web1 --target root@203.0.113.7',
      'bootstrap new-host --answers web1.toml --yes --confirm-disk /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_123',
      'bootstrap new-host web1 --target root@203.0.113.7 --dry-run',
    ],
    load: () => import('./install-run.js').then((m) => ({ run: m.runNewHostCommand })),
  },
  {
    name: 'rebuild',
    summary: "reinstall a host from its committed manifest, unattended, with the same identity",
    description:
      "Reads hosts/HOST/bootstrap.toml, probes the target and stops before any write when the install disk\n" +
      "is gone or its size or serial changed. With --hosts, rebuilds a fleet in parallel with per-host logs.",
    positionals: [{ name: 'HOST', description: 'host to rebuild (or --hosts a,b,c)' }],
    options: [
      choiceOption('target', "override the manifest's target"),
      { name: 'hosts', type: 'string', placeholder: 'A,B,C', description: 'rebuild several hosts (implies --yes)' },
      { name: 'parallel', type: 'string', placeholder: 'N', description: 'with --hosts: how many at a time (default 4)' },
      ...RUN,
      VIA_RESCUE,
    ],
    examples: ['bootstrap rebuild web1 --yes', 'bootstrap rebuild web1 --via-rescue -i ~/.ssh/id_ed25519', 'bootstrap rebuild --hosts web1,web2,db1 --parallel 3', 'bootstrap rebuild web1 --resume --yes'],
    load: () => import('./install-run.js').then((m) => ({ run: m.runRebuildCommand })),
  },
  {
    name: 'recover',
    summary: 'disaster recovery: reinstall a host on the same or new hardware, restore its backups, verify',
    positionals: [{ name: 'HOST', description: 'host to recover', required: true }],
    options: [
      choiceOption('target', 'the new machine (default: the manifest target)'),
      ...choiceOptions('disk', 'secondDisk'),
      ...RUN,
      VIA_RESCUE,
    ],
    examples: ['bootstrap recover web1 --target root@198.51.100.4', 'bootstrap recover web1 --yes --confirm-disk /dev/disk/by-id/nvme-…'],
    load: () => import('./install-run.js').then((m) => ({ run: m.runRecoverCommand })),
  },
];

/** `bootstrap backup setup` and `bootstrap backup status`: restic repositories per host. Wiring only. */
import { DRY_RUN_OPTION, FLAKE_OPTION, JSON_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';
import { SECRETS_MODE_OPTION } from './cache.js';

const STORAGE_OPTIONS = [
  { name: 'storage', type: 'string' as const, placeholder: 'NAME', description: '[storage.NAME] entry (default [backup] storage, or the only one)' },
  { name: 'bucket', type: 'string' as const, placeholder: 'BUCKET', description: 'bucket (default from [backup] or the storage entry)' },
];

export const backupCommands: CommandSpec[] = [
  {
    name: 'backup setup',
    summary: 'make a restic repository for HOST and render hosts/HOST/backup.nix',
    description:
      'The repository lives at PREFIX/HOST in the bucket (s3:ENDPOINT/BUCKET/restic/HOST), or under the directory of a\n' +
      'local storage entry. Its password is made once and kept in the secret store; restic init runs here (an\n' +
      'initialized repository is fine). backup.nix uses the option names of the NixOS release flake.lock pins.',
    positionals: [{ name: 'HOST', description: 'host name', required: true }],
    options: [
      ...STORAGE_OPTIONS,
      { name: 'paths', type: 'string', placeholder: '/srv,/var/lib', description: 'comma-separated paths to back up (default [backup] paths)' },
      { name: 'exclude', type: 'string', placeholder: 'PATTERNS', description: 'comma-separated exclude patterns (default [backup] exclude)' },
      { name: 'nixpkgs-release', type: 'string', placeholder: 'YY.MM', description: 'render for this NixOS release instead of the flake.lock pin' },
      { name: 'create-bucket', type: 'boolean', description: 'create the bucket when it does not exist' },
      SECRETS_MODE_OPTION,
      FLAKE_OPTION,
      DRY_RUN_OPTION,
      JSON_OPTION,
    ],
    examples: ['bootstrap backup setup web1', 'bootstrap backup setup web1 --paths /srv,/var/lib --dry-run', 'bootstrap backup setup web1 --json'],
    load: async () => ({ run: (await import('./backup-run.js')).runSetupCommand }),
  },
  {
    name: 'backup status',
    summary: "list HOST's restic snapshots",
    positionals: [{ name: 'HOST', description: 'host name', required: true }],
    options: [...STORAGE_OPTIONS, FLAKE_OPTION, JSON_OPTION],
    examples: ['bootstrap backup status web1 --json'],
    load: async () => ({ run: (await import('./backup-run.js')).runStatusCommand }),
  },
];

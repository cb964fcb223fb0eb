/** `bootstrap cache setup` and `bootstrap cache create`: the fleet's attic binary cache. Wiring only. */
import { DRY_RUN_OPTION, FLAKE_OPTION, JSON_OPTION, type OptionSpec } from '../args.js';
import type { CommandSpec } from '../spec.js';
import { SECRETS_MODES } from '../../config/sections/secrets-mode.js';

/** --secrets takes [sops] mode's values (checkSecretsMode; its old alias "extra-files" is not advertised). */
export const SECRETS_MODE_OPTION: OptionSpec = {
  name: 'secrets', type: 'string', placeholder: SECRETS_MODES.join('|'), choices: SECRETS_MODES,
  description: 'how the host gets secret files: sops, agenix or none (plain files delivered at install); default: [sops] mode',
};

export const cacheCommands: CommandSpec[] = [
  {
    name: 'cache setup',
    summary: 'check the S3 bucket, mint attic tokens and render hosts/HOST/attic.nix',
    description:
      'Checks the bucket (exists, write/read/delete, keep-only-last-version lifecycle), keeps the RS256 signing key,\n' +
      'admin/push/pull tokens and atticd\'s environment file in the secret store, and renders services.atticd with\n' +
      'S3 storage, sqlite, chunking, zstd and garbage collection. Secret values never enter the flake.',
    positionals: [],
    options: [
      { name: 'server', type: 'string', placeholder: 'HOST', description: 'host that runs atticd (default [cache] server)' },
      { name: 'storage', type: 'string', placeholder: 'NAME', description: '[storage.NAME] entry (default [cache] storage, or the only one)' },
      { name: 'bucket', type: 'string', placeholder: 'BUCKET', description: 'bucket (default from [cache] or the storage entry)' },
      { name: 'create-bucket', type: 'boolean', description: 'create the bucket when it does not exist' },
      { name: 'set-lifecycle', type: 'boolean', description: 'add the keep-only-last-version lifecycle rule when missing' },
      { name: 'rotate-tokens', type: 'boolean', description: 'mint new admin/push/pull tokens even if they exist' },
      SECRETS_MODE_OPTION,
      FLAKE_OPTION,
      DRY_RUN_OPTION,
      JSON_OPTION,
    ],
    examples: ['bootstrap cache setup --server cache1 --storage b2main --create-bucket', 'bootstrap cache setup --server cache1 --dry-run', 'bootstrap cache setup --server cache1 --json'],
    load: async () => ({ run: (await import('./cache-run.js')).runSetupCommand }),
  },
  {
    name: 'cache create',
    summary: 'create a cache on atticd and render the hosts\' cache.nix (substituter + key)',
    description:
      'POSTs /_api/v1/cache-config/NAME with the admin token (an existing cache is fine), reads the cache\'s public key\n' +
      'and renders hosts/HOST/cache.nix (nix.settings substituters, trusted-public-keys, netrc-file when private)\n' +
      'for every --host. Hosts must reach the S3 endpoint too: attic redirects downloads to presigned URLs.',
    positionals: [{ name: 'NAME', description: 'cache name (default [cache] name): letters, digits, "-", "_", "+"' }],
    options: [
      { name: 'server-url', type: 'string', placeholder: 'URL', description: 'atticd URL (default [cache] url)' },
      { name: 'server', type: 'string', placeholder: 'HOST', description: 'host that runs atticd (default [cache] server)' },
      { name: 'host', type: 'string', multiple: true, placeholder: 'HOST', description: 'render hosts/HOST/cache.nix for this host' },
      { name: 'public', type: 'boolean', description: 'make the cache public (no pull token needed)' },
      SECRETS_MODE_OPTION,
      FLAKE_OPTION,
      DRY_RUN_OPTION,
      JSON_OPTION,
    ],
    examples: ['bootstrap cache create main --server-url https://cache.example.org/ --host web1 --host web2'],
    load: async () => ({ run: (await import('./cache-run.js')).runCreateCommand }),
  },
  {
    name: 'cache kexec-image',
    summary: 'store a kexec installer image in the fleet storage, for installs with --kexec-from cache',
    description:
      'Uploads FILE (a nixos-kexec-installer .tar.gz you checked) to the storage of [cache] as\n' +
      'kexec-images/SHA256.tar.gz (kept when already there) and prints its sha256. Installs then give\n' +
      '--kexec-from cache --kexec-sha256 SHA256: the target downloads it with a presigned URL (no storage\n' +
      'credentials on it) and checks it against that pin before kexec.',
    positionals: [{ name: 'FILE', description: 'the kexec installer tarball (.tar.gz)' }],
    options: [FLAKE_OPTION, JSON_OPTION],
    examples: ['bootstrap cache kexec-image ./nixos-kexec-installer-noninteractive-x86_64-linux.tar.gz'],
    load: async () => ({ run: (await import('./cache-kexec-run.js')).runKexecImageCommand }),
  },
];

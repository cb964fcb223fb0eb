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
    load: () => import('./keys-ensure-run.js'),
  },
  {
    name: 'keys import',
    summary: "bring existing keys into the secret store: a host's SSH host key, an age identity, the fleet's shared admin age key",
    description:
      'Stores them under the names `keys ensure` uses, so ensure, new-host, rebuild and recover reuse them, then registers\n' +
      'the recipients as `keys ensure` does. FILE is a path, or - for stdin; key material is never taken as an argument\n' +
      'and never printed. --ssh-key: an unencrypted OpenSSH ed25519 private key (its sops recipient is derived from it).\n' +
      '--age-key: an AGE-SECRET-KEY-1… file, the host\'s separate key ([sops] separateKeyPath). --shared-admin-age: one\n' +
      'admin age key for the whole fleet (stored as shared/admin-age; delivered with [sops] separateKeyShared = true).\n' +
      'A different key already stored is kept unless --force.',
    positionals: [{ name: 'HOST', description: 'host name (needed for --ssh-key and --age-key), e.g. web1' }],
    options: [
      { name: 'ssh-key', type: 'string', placeholder: 'FILE', description: "the host's current SSH host key (OpenSSH ed25519 private key), or - for stdin" },
      { name: 'age-key', type: 'string', placeholder: 'FILE', description: "an existing age identity as the host's separate age key, or - for stdin" },
      { name: 'shared-admin-age', type: 'string', placeholder: 'FILE', description: "an existing age identity as the fleet's shared admin key, or - for stdin" },
      { name: 'force', type: 'boolean', description: 'replace a different stored key (secrets encrypted to the old one must be re-encrypted)' },
      JSON_OPTION,
      DRY_RUN_OPTION,
      FLAKE_OPTION,
    ],
    examples: [
      'bootstrap keys import web1 --ssh-key ./ssh_host_ed25519_key',
      'ssh root@web1 cat /etc/ssh/ssh_host_ed25519_key | bootstrap keys import web1 --ssh-key -',
      'bootstrap keys import --shared-admin-age ~/fleet-admin-age.txt',
    ],
    load: () => import('./keys-import-run.js'),
  },
  {
    name: 'keys show',
    summary: "print a host's public identity: SSH public key, fingerprint, store reference, age recipient",
    positionals: [HOST],
    options: [JSON_OPTION, FLAKE_OPTION],
    examples: ['bootstrap keys show web1 --json'],
    load: () => import('./keys-show-run.js'),
  },
];

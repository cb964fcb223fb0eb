/** `bootstrap secrets set|list`: values the tool reads from the secret store (S3 keys, restic passwords). Wiring only. */
import { FLAKE_OPTION, JSON_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';

export const secretsCommands: CommandSpec[] = [
  {
    name: 'secrets set',
    summary: 'store a secret value in the secret store, read from stdin or a hidden prompt (never an argument)',
    description:
      'Writes to the store from bootstrap.toml ([secrets] store): the local age vault or 1Password. The value comes from\n' +
      'stdin when it is not a terminal, else from a hidden prompt; one trailing newline is dropped (so `echo`, a file\n' +
      'and a pasted line store the same value), every other byte is kept. Empty values are refused, and a different\n' +
      'existing value is replaced only with --force. Names are slash-separated, e.g. storage/b2/access-key-id,\n' +
      'storage/b2/secret-access-key ([storage.b2], or its credentials prefix), hosts/web1/restic-password.\n' +
      'Host keys are not set here: use `bootstrap keys import`.',
    positionals: [
      { name: 'NAME', description: 'secret name, e.g. storage/b2/secret-access-key', required: true },
      // Parsed only to be refused without echoing it: a value in argv lands in shell history and `ps`.
      { name: 'VALUE', description: 'refused', hidden: true },
    ],
    options: [
      { name: 'force', type: 'boolean', description: 'replace a different existing value' },
      JSON_OPTION,
      FLAKE_OPTION,
    ],
    examples: [
      'bootstrap secrets set storage/b2/access-key-id          # prompts, hidden',
      'pass show b2/app-key | bootstrap secrets set storage/b2/secret-access-key',
      'bootstrap secrets set hosts/web1/restic-password < old-repo-password.txt',
    ],
    load: async () => ({ run: (await import('./secrets-set-run.js')).runSetCommand }),
  },
  {
    name: 'secrets list',
    summary: 'list the names of the secrets in the store (never their values)',
    positionals: [],
    options: [JSON_OPTION, FLAKE_OPTION],
    examples: ['bootstrap secrets list', 'bootstrap secrets list --json'],
    load: async () => ({ run: (await import('./secrets-set-run.js')).runListCommand }),
  },
];

/** [secrets] and [sops]: where host identities live and how hosts get their secrets. */
import { z } from 'zod';
import { flakePath } from '../flake-path.js';

export const secretsSection = z
  .object({
    store: z.enum(['local', 'onepassword']).default('local').describe('secret store backend'),
    local: z
      .object({
        dir: flakePath('secrets/bootstrap', 'directory (in the flake) of the local age vault'),
        recipients: z.array(z.string()).default([]).describe('admin age recipients (age1…) the vault is encrypted to'),
        identityFile: z
          .string()
          .optional()
          .describe('age identity file; $BOOTSTRAP_AGE_IDENTITY (a path, or the AGE-SECRET-KEY-1… itself) wins; default ~/.config/sops/age/keys.txt'),
      })
      .strict()
      .prefault({}),
    onepassword: z
      .object({
        vault: z.string().describe('1Password vault (name or id) that holds host items'),
        account: z
          .string()
          .optional()
          .describe('account name for desktop-app authentication, used when OP_SERVICE_ACCOUNT_TOKEN is unset'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .prefault({});

export const sopsSection = z
  .object({
    mode: z.enum(['sops', 'agenix', 'none']).default('sops').describe('how hosts decrypt their secrets'),
    file: z.string().default('.sops.yaml').describe('sops config file, relative to the flake'),
    agenixFile: z.string().default('secrets/secrets.nix').describe('agenix rules file, relative to the flake'),
    keyPath: z.string().default('/var/lib/sops-nix/key.txt').describe('where the host age identity is installed'),
    rules: z
      .array(z.string())
      .default([])
      .describe('path_regex values of extra creation rules every host joins (e.g. "secrets/common/.*")'),
    separateKeyPath: z
      .string()
      .optional()
      .describe('also give each host an independent age key, installed at this path (e.g. /var/lib/sops-nix/admin-key.txt)'),
  })
  .strict()
  .prefault({});

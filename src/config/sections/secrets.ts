/** [secrets] and [sops]: where host identities live and how hosts get their secrets. */
import { z } from 'zod';
import { SecretRef } from '../../manifest/schema.js';
import { flakePath } from '../flake-path.js';
import { SECRETS_MODES } from './secrets-mode.js';

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
        opnix: z
          .boolean()
          .optional()
          .describe('deliver a 1Password service account token to installed hosts for OpNix (github:brizzbuzz/opnix); default: when flake.nix names opnix'),
        opnixTokenPath: z
          .string()
          .regex(/^\/[^\0\n]*[^/]$/, 'must be an absolute file path on the host, e.g. /etc/opnix-token')
          .default('/etc/opnix-token')
          .describe("where the token lands on the host (0600): OpNix's services.onepassword-secrets.tokenFile"),
        opnixToken: SecretRef.optional().describe('op:// reference to the token hosts get (e.g. a read-only service account); default: OP_SERVICE_ACCOUNT_TOKEN'),
      })
      .strict()
      .optional(),
    hosts: z
      .record(
        z.string(),
        z
          .object({
            sshHostKey: SecretRef.optional().describe('an existing 1Password item to take the host SSH key from, e.g. "op://Infra/web1 ssh/private key"'),
          })
          .strict(),
      )
      .default({})
      .describe('per host: existing secrets to use instead of creating them ([secrets.hosts.web1] sshHostKey = "op://…")'),
  })
  .strict()
  .prefault({});

export const sopsSection = z
  .object({
    mode: z.enum(SECRETS_MODES).default('sops').describe('how hosts decrypt their secrets'),
    file: flakePath('.sops.yaml', 'sops config file, relative to the flake'),
    agenixFile: flakePath('secrets/secrets.nix', 'agenix rules file, relative to the flake'),
    keyPath: z.string().default('/var/lib/sops-nix/key.txt').describe('where the host age identity is installed'),
    rules: z
      .array(z.string())
      .default([])
      .describe('path_regex values of extra creation rules every host joins (e.g. "secrets/common/.*")'),
    separateKeyPath: z
      .string()
      .optional()
      .describe('also give each host an independent age key, installed at this path (e.g. /var/lib/sops-nix/admin-key.txt)'),
    separateKeyShared: z
      .boolean()
      .default(false)
      .describe('the separateKeyPath key is one admin age identity shared by the fleet (secret store name shared/admin-age), not one per host'),
  })
  .strict()
  // issue 11: a shared admin key needs a place on the host; without separateKeyPath it would silently do nothing.
  .refine((s) => !s.separateKeyShared || s.separateKeyPath !== undefined, {
    message: 'separateKeyShared = true needs separateKeyPath (where the shared admin age key is installed on each host)',
    path: ['separateKeyShared'],
  })
  .prefault({});

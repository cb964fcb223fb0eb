/**
 * The values of bootstrap.toml's `[sops] mode` (secrets-mode.ts has the schema and what each means),
 * apart from zod so the `--secrets` flag's spec and `--help` do not load it (issue 22).
 */
export const SECRETS_MODES = ['sops', 'agenix', 'none'] as const;

export type SecretsMode = (typeof SECRETS_MODES)[number];

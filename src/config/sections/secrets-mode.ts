/**
 * How a host receives its secret files: bootstrap.toml's `[sops] mode`. One idea, one name, one
 * set of values (issue 14): this list is the only declaration; the config's enum (sections/secrets.ts),
 * the storage renderers, the storage workflows and the `--secrets` flag of `cache setup|create` and
 * `backup setup` use it. Free of zod, so the flag's spec and `--help` do not load it (issue 22).
 *   sops    sops-nix decrypts them on the host (config.sops.secrets."NAME".path)
 *   agenix  agenix decrypts them on the host (config.age.secrets."NAME".path)
 *   none    no decryption on the host: plain files, delivered at install time
 */
export const SECRETS_MODES = ['sops', 'agenix', 'none'] as const;

export type SecretsMode = (typeof SECRETS_MODES)[number];

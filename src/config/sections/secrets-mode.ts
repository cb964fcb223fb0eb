/**
 * How a host receives its secret files: bootstrap.toml's `[sops] mode`. One idea, one name, one
 * set of values (issue 14): the config's enum is the only declaration; the storage renderers, the
 * storage workflows and the `--secrets` flag of `cache setup|create` and `backup setup` use it.
 *   sops    sops-nix decrypts them on the host (config.sops.secrets."NAME".path)
 *   agenix  agenix decrypts them on the host (config.age.secrets."NAME".path)
 *   none    no decryption on the host: plain files, delivered at install time
 */
import { z } from 'zod';
import { SECRETS_MODES } from './secrets-mode-names.js';

export { SECRETS_MODES, type SecretsMode } from './secrets-mode-names.js';

export const secretsModeSchema = z.enum(SECRETS_MODES);

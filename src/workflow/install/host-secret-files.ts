/**
 * The host's service secrets (attic environment, restic password and S3 keys, cache netrc) kept
 * in the secret store by `cache setup` / `backup setup`. With [sops] mode = "none" the rendered
 * modules read them from /var/lib/bootstrap/secrets, and the install puts them there through the
 * --extra-files tree; with mode sops or agenix the host decrypts them itself.
 */
import { ATTIC_ENV_SECRET } from '../../storage/attic-server.js';
import { RESTIC_ENV_SECRET, RESTIC_PASSWORD_SECRET } from '../../storage/backup-module.js';
import { CACHE_NETRC_SECRET } from '../../storage/cache-client-module.js';
import { EXTRA_FILES_SECRET_DIR, hostSecretStoreName } from '../../storage/host-secrets.js';
import type { SecretStore } from '../../secrets/store.js';

export const HOST_SERVICE_SECRETS = [ATTIC_ENV_SECRET, RESTIC_PASSWORD_SECRET, RESTIC_ENV_SECRET, CACHE_NETRC_SECRET] as const;

/** The host's service secrets that exist in the store, as files for the extra-files tree. */
export async function readHostSecretFiles(store: SecretStore, host: string): Promise<{ path: string; content: string }[]> {
  const files: { path: string; content: string }[] = [];
  for (const name of HOST_SERVICE_SECRETS) {
    const value = await store.get(hostSecretStoreName(host, name));
    if (value !== undefined) files.push({ path: `${EXTRA_FILES_SECRET_DIR}/${name}`, content: value });
  }
  return files;
}

/**
 * Checks that need the loaded config: the secret store and the S3 endpoints. Kept apart so the
 * base checks never import the secret or storage code, and loaded only by `doctor`.
 */
import { connect } from 'node:net';
import type { LoadedConfig } from '../config/load.js';
import type { AppContext } from '../context.js';
import { messageOf } from '../errors.js';
import type { CheckResult } from './checks.js';

async function secretStoreCheck(ctx: AppContext, loaded: LoadedConfig): Promise<CheckResult> {
  const name = `secret store (${loaded.config.secrets.store})`;
  try {
    const { openSecretStore } = await import('../secrets/open-store.js');
    const store = await openSecretStore(loaded, ctx);
    const h = await store.healthCheck();
    if (h.kind === 'ok') return { name, status: 'ok', detail: h.detail, required: true };
    return { name, status: 'missing', detail: h.detail, fix: h.hint, required: true };
  } catch (e) {
    return { name, status: 'missing', detail: messageOf(e), fix: (e as { hint?: string }).hint ?? 'see `bootstrap keys --help`', required: true };
  }
}

/** TCP reachability of an endpoint URL, bounded by a timeout. Hosts fetch attic's presigned URLs from it too. */
export function tcpReachable(url: string, timeoutMs: number): Promise<string | undefined> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    const done = (err?: string) => {
      sock.destroy();
      resolve(err);
    };
    sock.once('connect', () => done());
    sock.once('timeout', () => done(`no answer within ${timeoutMs / 1000}s`));
    sock.once('error', (e) => done(e.message));
  });
}

async function storageChecks(loaded: LoadedConfig, timeoutMs: number): Promise<CheckResult[]> {
  const entries = Object.entries(loaded.config.storage).filter(([, e]) => e.provider !== 'local');
  if (entries.length === 0) return [];
  const { buildS3Settings, endpointUrl } = await import('../storage/s3-settings.js');
  return Promise.all(
    entries.map(async ([storageName, entry]): Promise<CheckResult> => {
      const name = `storage.${storageName}`;
      let url: string;
      try {
        url = endpointUrl(buildS3Settings(storageName, entry));
      } catch (e) {
        return { name, status: 'missing', detail: messageOf(e), fix: (e as { hint?: string }).hint ?? 'fix bootstrap.toml', required: true };
      }
      const err = await tcpReachable(url, timeoutMs);
      return err
        ? { name, status: 'warn', detail: `${url} is not reachable from here: ${err}`, fix: 'check the endpoint and this network; hosts using the cache must reach it too (attic redirects downloads to presigned URLs)', required: false }
        : { name, status: 'ok', detail: `${url} reachable`, required: false };
    }),
  );
}

export async function extraDoctorChecks(ctx: AppContext, loaded: LoadedConfig): Promise<CheckResult[]> {
  const [store, storage] = await Promise.all([secretStoreCheck(ctx, loaded), storageChecks(loaded, 5000)]);
  // Issue 13: the provider APIs of hosts with a [provider] section (read-only calls).
  const providers = await (await import('./provider-checks.js')).providerChecks(ctx, loaded);
  return [store, ...storage, ...providers];
}

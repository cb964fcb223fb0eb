/**
 * `bootstrap cache create NAME`: create the cache through attic's API with the admin token (an
 * existing cache is success), read its public key, and render hosts/HOST/cache.nix for each
 * --host so they substitute from it. Private caches also get the pull token as a netrc secret.
 */
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import type { PlannedFile } from '../../render/file-plan.js';
import type { SecretStore } from '../../secrets/store.js';
import { runCreateCache, type CacheInfo, type FetchLike } from '../../storage/attic-api.js';
import { buildCacheClientModule, buildCacheNetrc, CACHE_NETRC_SECRET } from '../../storage/cache-client-module.js';
import { hostSecretStoreName, type SecretMechanism } from '../../storage/host-secrets.js';
import { atticSecretNames } from './cache-setup.js';
import { checkHostName, runApplyFiles } from './common.js';

export interface CacheCreateOptions {
  name: string;
  serverUrl?: string;
  server?: string;
  hosts: string[];
  isPublic?: boolean;
  secrets: SecretMechanism;
  dryRun: boolean;
  fetch: FetchLike;
}

export interface CacheCreateResult {
  cache: CacheInfo;
  files: string[];
}

export async function runCacheCreate(ctx: Pick<AppContext, 'out' | 'signal'>, loaded: LoadedConfig, store: SecretStore, o: CacheCreateOptions): Promise<CacheCreateResult> {
  const section = loaded.config.cache;
  const serverUrl = o.serverUrl ?? section.url;
  if (!serverUrl) throw usageError('missing-server-url', 'no attic server URL', 'pass --server-url https://cache.example.org/ or set [cache] url in bootstrap.toml');
  const server = o.server ?? section.server;
  if (!server) throw usageError('missing-server', 'which host runs atticd?', 'pass --server HOST or set [cache] server in bootstrap.toml');
  const names = atticSecretNames(checkHostName(server));
  const hosts = o.hosts.map(checkHostName);
  const isPublic = o.isPublic ?? section.public;
  if (o.dryRun) {
    ctx.out.info(`would create cache "${o.name}" at ${serverUrl} and render cache.nix for: ${hosts.join(', ') || '(no --host given)'}`);
    return { cache: { created: false, publicKey: '', substituterEndpoint: '', apiEndpoint: undefined, isPublic }, files: [] };
  }
  const token = await store.get(names.tokens.admin);
  if (!token) throw usageError('missing-admin-token', `no attic admin token in the secret store (${names.tokens.admin})`, `run \`bootstrap cache setup --server ${server}\` first`);
  const cache = await runCreateCache(o.fetch, { serverUrl, cache: o.name, token, isPublic, signal: ctx.signal });
  ctx.out.success(`${cache.created ? 'created' : 'found'} cache "${o.name}", public key ${cache.publicKey}`);

  const files: PlannedFile[] = [];
  for (const host of hosts) {
    if (!isPublic) {
      const pull = await store.get(names.tokens.pull);
      if (!pull) throw usageError('missing-pull-token', `no pull token (${names.tokens.pull})`, `run \`bootstrap cache setup --server ${server}\``);
      await store.put(hostSecretStoreName(host, CACHE_NETRC_SECRET), buildCacheNetrc(serverUrl, pull), { kind: 'note' });
    }
    files.push(buildCacheClientModule({ host, hostsDir: loaded.config.hostsDir, substituter: cache.substituterEndpoint, publicKey: cache.publicKey, private: !isPublic, secrets: o.secrets }));
  }
  return { cache, files: await runApplyFiles(ctx, loaded.flakeDir, files, false) };
}

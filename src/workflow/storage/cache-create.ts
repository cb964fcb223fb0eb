/**
 * `bootstrap cache create NAME`: create the cache through attic's API with the admin token (an
 * existing cache is success), read its public key, and render hosts/HOST/cache.nix for each
 * --host so they substitute from it. Private caches also get the pull token as a netrc secret.
 */
import { hostDir } from '../../config/host-dir.js';
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import type { PlannedFile } from '../../render/file-plan.js';
import type { SecretStore } from '../../secrets/store.js';
import { checkCacheName, runCreateCache, type CacheInfo, type FetchLike } from '../../storage/attic-api.js';
import { buildCacheClientModule, buildCacheNetrc, CACHE_NETRC_SECRET } from '../../storage/cache-client-module.js';
import { hostSecretStoreName } from '../../storage/host-secrets.js';
import type { SecretsMode } from '../../config/sections/secrets-mode.js';
import { atticSecretNames } from './cache-setup.js';
import { checkHostName, runApplyFilePlan, type FileResult } from './common.js';

export interface CacheCreateOptions {
  name: string;
  serverUrl?: string;
  server?: string;
  hosts: string[];
  isPublic?: boolean;
  /** How the host gets its secret files: --secrets, else bootstrap.toml's [sops] mode. */
  secretsMode: SecretsMode;
  dryRun: boolean;
  fetch: FetchLike;
}

/** What create did, for people and for `--json`: never the tokens, only where they are kept. */
export interface CacheCreateResult {
  name: string;
  serverUrl: string;
  hosts: string[];
  dryRun: boolean;
  cache: CacheInfo;
  /** Paths written (relative to the flake). */
  files: string[];
  /** Every rendered file with its action. */
  plan: FileResult[];
  /** Secret store references of each host's netrc (private caches). */
  netrcRefs: Record<string, string>;
}

export async function runCacheCreate(ctx: Pick<AppContext, 'out' | 'signal'>, loaded: LoadedConfig, store: SecretStore, o: CacheCreateOptions): Promise<CacheCreateResult> {
  const section = loaded.config.cache;
  const name = checkCacheName(o.name);
  const serverUrl = o.serverUrl ?? section.url;
  if (!serverUrl) throw usageError('missing-server-url', 'no attic server URL', 'pass --server-url https://cache.example.org/ or set [cache] url in bootstrap.toml');
  const server = o.server ?? section.server;
  if (!server) throw usageError('missing-server', 'which host runs atticd?', 'pass --server HOST or set [cache] server in bootstrap.toml');
  const names = atticSecretNames(checkHostName(server));
  const hosts = o.hosts.map(checkHostName);
  const isPublic = o.isPublic ?? section.public;
  if (o.dryRun) {
    ctx.out.info(`would create cache "${name}" at ${serverUrl} and render cache.nix for: ${hosts.join(', ') || '(no --host given)'}`);
    return { name, serverUrl, hosts, dryRun: true, cache: { created: false, publicKey: '', substituterEndpoint: '', apiEndpoint: undefined, isPublic }, files: [], plan: [], netrcRefs: {} };
  }
  const token = await store.get(names.tokens.admin);
  if (!token) throw usageError('missing-admin-token', `no attic admin token in the secret store (${names.tokens.admin})`, `run \`bootstrap cache setup --server ${server}\` first`);
  const cache = await runCreateCache(o.fetch, { serverUrl, cache: name, token, isPublic, signal: ctx.signal });
  ctx.out.success(`${cache.created ? 'created' : 'found'} cache "${name}", public key ${cache.publicKey}`);

  const files: PlannedFile[] = [];
  const netrcRefs: Record<string, string> = {};
  for (const host of hosts) {
    if (!isPublic) {
      const pull = await store.get(names.tokens.pull);
      if (!pull) throw usageError('missing-pull-token', `no pull token (${names.tokens.pull})`, `run \`bootstrap cache setup --server ${server}\``);
      netrcRefs[host] = await store.put(hostSecretStoreName(host, CACHE_NETRC_SECRET), buildCacheNetrc(cache.substituterEndpoint, pull), { kind: 'note' });
    }
    files.push(buildCacheClientModule({ host, hostDir: hostDir(loaded.config, host), substituter: cache.substituterEndpoint, publicKey: cache.publicKey, private: !isPublic, secretsMode: o.secretsMode }));
  }
  const applied = await runApplyFilePlan(ctx, loaded.flakeDir, files, { dryRun: false });
  return { name, serverUrl, hosts, dryRun: false, cache, files: applied.written, plan: applied.files, netrcRefs };
}

/**
 * The fleet's attic cache as a source of system closures (issue 20, issue 21), shared by the
 * install (workflow/install/closure-cache.ts: the installer substitutes from it) and deploy
 * (workflow/deploy/copy-route.ts: the installed host does): is a cache configured ([cache] url
 * and server in bootstrap.toml, `bootstrap cache setup`), can it be read with the pull token in the
 * secret store, and the push of what it lacks with the attic client when it is on PATH. Never
 * throws for a cache problem: the caller then streams the closure over ssh, and says why.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { messageOf } from '../../errors.js';
import { redact, registerSecret } from '../../redact.js';
import { findOnPath } from '../../nix/nixos-anywhere.js';
import type { SecretStore } from '../../secrets/store.js';
import { runReadCache, type CacheInfo, type FetchLike } from '../../storage/attic-api.js';
import { atticSecretNames } from '../../storage/attic-secret-names.js';
import { buildAtticClientConfig, buildAtticPushArgv } from '../../storage/installer-cache.js';

export interface FleetCachePorts {
  loaded: LoadedConfig;
  app: Pick<AppContext, 'run' | 'env'>;
  store(): Promise<SecretStore>;
  signal: AbortSignal;
}

export interface FleetCache {
  /** [cache] name */
  name: string;
  /** [cache] server: the host that serves it (its secrets are named after it). */
  server: string;
  info: CacheInfo;
  /** The pull token (registered as a secret: never printed). */
  pull: string;
}

export const defaultFetch: FetchLike = (url, init) => fetch(url, init);

/** The configured cache, read with its pull token, or why there is none to use. */
export async function readFleetCache(c: FleetCachePorts, fetchImpl: FetchLike = defaultFetch): Promise<{ ok: true; cache: FleetCache } | { ok: false; why: string }> {
  const section = c.loaded.config.cache;
  if (!section.url || !section.server) return { ok: false, why: 'no attic cache is configured ([cache] url and server in bootstrap.toml, `bootstrap cache setup`)' };
  const names = atticSecretNames(section.server);
  const pull = await (await c.store()).get(names.tokens.pull);
  if (!pull) return { ok: false, why: `the cache's pull token is not in the secret store (${names.tokens.pull}; run \`bootstrap cache setup --server ${section.server}\`)` };
  registerSecret(pull);
  try {
    const info = await runReadCache(fetchImpl, { serverUrl: section.url, cache: section.name, token: pull, signal: c.signal });
    return { ok: true, cache: { name: section.name, server: section.server, info, pull } };
  } catch (e) {
    return { ok: false, why: `the cache "${section.name}" could not be read: ${messageOf(e)}` };
  }
}

/** The attic client and the push token, or why a push cannot happen (a dry run asks only this). */
export async function checkPushReady(c: FleetCachePorts, cache: FleetCache): Promise<{ ok: true; attic: string; token: string } | { ok: false; why: string }> {
  const attic = findOnPath('attic', c.app.env);
  if (!attic) return { ok: false, why: 'the attic client is not on PATH to push them first' };
  const pushName = atticSecretNames(cache.server).tokens.push;
  const token = await (await c.store()).get(pushName);
  if (!token) return { ok: false, why: `no push token in the secret store (${pushName})` };
  registerSecret(token);
  return { ok: true, attic, token };
}

/**
 * `attic push` of `paths` (attic pushes their closures, skipping what the cache has) with a client
 * configuration of our own in `privateDir` (0700, removed by the caller), the push token in a file
 * there; why not, when not.
 */
export async function runPushMissing(c: FleetCachePorts, cache: FleetCache, privateDir: string, paths: readonly string[]): Promise<{ ok: true } | { ok: false; why: string }> {
  const ready = await checkPushReady(c, cache);
  if (!ready.ok) return ready;
  const { attic, token } = ready;
  const xdg = join(privateDir, 'attic-config');
  await mkdir(join(xdg, 'attic'), { recursive: true, mode: 0o700 });
  const tokenFile = join(xdg, 'push-token');
  await writeFile(tokenFile, token, { mode: 0o600 });
  await writeFile(join(xdg, 'attic', 'config.toml'), buildAtticClientConfig(cache.info.apiEndpoint ?? c.loaded.config.cache.url!, tokenFile), { mode: 0o600 });
  const r = await c.app.run(buildAtticPushArgv(attic, cache.name, paths), { env: { XDG_CONFIG_HOME: xdg }, check: false, signal: c.signal, timeoutMs: 60 * 60_000 });
  if (r.code === 0) return { ok: true };
  const last = redact(r.stderr.trim().split('\n').pop() ?? '');
  return { ok: false, why: `attic push failed (exit ${r.code}${last ? `: ${last.slice(0, 200)}` : ''})` };
}

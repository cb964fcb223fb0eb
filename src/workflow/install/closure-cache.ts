/**
 * Where the system closure comes from (issue 20): when bootstrap.toml names an attic cache
 * ([cache] url and server, set up by `bootstrap cache setup` / `cache create`) and the secret
 * store has its pull token, the installer on the target gets the cache's substituter, trusted key
 * and (private cache) netrc, and `nix copy --substitute-on-destination` fetches from the cache
 * what it has; only the rest is streamed from here over ssh. With the attic client on PATH and
 * the push token in the store, what the cache lacks is pushed first (`attic push`), so nothing of
 * the closure crosses the operator's link to the target. The decision and its reason are shown
 * and go into --json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../../errors.js';
import { redact, registerSecret } from '../../redact.js';
import { findOnPath } from '../../nix/nixos-anywhere.js';
import { runReadCache, type FetchLike } from '../../storage/attic-api.js';
import { buildCacheNetrc } from '../../storage/cache-client-module.js';
import { buildAtticClientConfig, buildAtticPushArgv, buildInstallerNixConf, INSTALLER_NETRC, INSTALLER_NIX_CONF } from '../../storage/installer-cache.js';
import { atticSecretNames } from '../storage/cache-setup.js';
import type { InstallCtx } from './context.js';
import type { BuildResult } from './preflight-nix.js';

export interface ClosureSource {
  /** cache: the target substitutes from the fleet cache; operator: everything streams from here. */
  from: 'cache' | 'operator';
  /** Why, in words for the output. */
  reason: string;
  cache?: { name: string; substituter: string; publicKey: string };
  /** How the paths the cache lacked got there: pushed with attic, or streamed by nix copy. */
  missing?: 'pushed' | 'streamed';
}

/** Files for the installer: uploaded by the call to these absolute paths on the target. */
export interface InstallerUpload {
  remotePath: string;
  localPath: string;
}

type C = Pick<InstallCtx, 'loaded' | 'app' | 'store' | 'secretDir' | 'signal'>;

const defaultFetch: FetchLike = (url, init) => fetch(url, init);

/**
 * Decide where the closure comes from, push what the cache lacks when attic is here, and write
 * the installer's nix.conf (and netrc) into the run's secret directory. Never throws for a cache
 * problem: the install then streams the closure as it always did, and says why.
 */
export async function runPrepareClosureSource(c: C, built: BuildResult, fetchImpl: FetchLike = defaultFetch): Promise<{ source: ClosureSource; uploads: InstallerUpload[] }> {
  const section = c.loaded.config.cache;
  const remote = built.kind !== 'local' ? '; the target builds the system itself (--build-on remote), fetching what it can from its own caches' : '';
  const none = (reason: string) => ({ source: { from: 'operator' as const, reason: `${reason}${remote}` }, uploads: [] });
  if (!section.url || !section.server) return none('no attic cache is configured ([cache] url and server in bootstrap.toml, `bootstrap cache setup`)');
  const store = await c.store();
  const names = atticSecretNames(section.server);
  const pull = await store.get(names.tokens.pull);
  if (!pull) return none(`the cache's pull token is not in the secret store (${names.tokens.pull}; run \`bootstrap cache setup --server ${section.server}\`)`);
  registerSecret(pull);
  let info;
  try {
    info = await runReadCache(fetchImpl, { serverUrl: section.url, cache: section.name, token: pull, signal: c.signal });
  } catch (e) {
    return none(`the cache "${section.name}" could not be read: ${messageOf(e)}`);
  }
  const isPrivate = info.isPublic !== true;
  const dir = join(c.secretDir, 'installer-nix');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const uploads: InstallerUpload[] = [{ remotePath: INSTALLER_NIX_CONF, localPath: join(dir, 'nix.conf') }];
  await writeFile(uploads[0]!.localPath, buildInstallerNixConf({ substituter: info.substituterEndpoint, publicKey: info.publicKey, netrc: isPrivate }), { mode: 0o600 });
  if (isPrivate) {
    uploads.push({ remotePath: INSTALLER_NETRC, localPath: join(dir, 'netrc') });
    await writeFile(uploads[1]!.localPath, buildCacheNetrc(info.substituterEndpoint, pull), { mode: 0o600 });
  }
  const cache = { name: section.name, substituter: info.substituterEndpoint, publicKey: info.publicKey };
  const base = `the target substitutes from cache "${section.name}" (${info.substituterEndpoint})`;
  if (built.kind !== 'local') return { source: { from: 'cache', reason: `${base}; the target builds the rest itself (--build-on remote)`, cache }, uploads };
  const pushed = await runPushMissing(c, section.name, info.apiEndpoint ?? section.url, names.tokens.push, [built.paths.disko, built.paths.toplevel]);
  const reason = pushed.ok ? `${base}; what it lacked was pushed first with attic` : `${base}; paths it lacks are streamed from here (${pushed.why})`;
  return { source: { from: 'cache', reason, cache, missing: pushed.ok ? 'pushed' : 'streamed' }, uploads };
}

/** `attic push` with a configuration of our own in the secret directory; why not, when not. */
async function runPushMissing(c: C, cache: string, endpoint: string, pushTokenName: string, paths: string[]): Promise<{ ok: true } | { ok: false; why: string }> {
  const attic = findOnPath('attic', c.app.env);
  if (!attic) return { ok: false, why: 'the attic client is not on PATH to push them first' };
  const token = await (await c.store()).get(pushTokenName);
  if (!token) return { ok: false, why: `no push token in the secret store (${pushTokenName})` };
  registerSecret(token);
  const xdg = join(c.secretDir, 'attic-config');
  await mkdir(join(xdg, 'attic'), { recursive: true, mode: 0o700 });
  const tokenFile = join(xdg, 'push-token');
  await writeFile(tokenFile, token, { mode: 0o600 });
  await writeFile(join(xdg, 'attic', 'config.toml'), buildAtticClientConfig(endpoint, tokenFile), { mode: 0o600 });
  const r = await c.app.run(buildAtticPushArgv(attic, cache, paths), { env: { XDG_CONFIG_HOME: xdg }, check: false, signal: c.signal, timeoutMs: 60 * 60_000 });
  if (r.code === 0) return { ok: true };
  const last = redact(r.stderr.trim().split('\n').pop() ?? '');
  return { ok: false, why: `attic push failed (exit ${r.code}${last ? `: ${last.slice(0, 200)}` : ''})` };
}

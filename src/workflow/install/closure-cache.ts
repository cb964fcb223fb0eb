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
import type { FetchLike } from '../../storage/attic-api.js';
import { buildCacheNetrc } from '../../storage/cache-client-module.js';
import { buildInstallerNixConf, INSTALLER_NETRC, INSTALLER_NIX_CONF } from '../../storage/installer-cache.js';
import { defaultFetch, readFleetCache, runPushMissing } from '../shared/fleet-cache.js';
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

/**
 * Decide where the closure comes from, push what the cache lacks when attic is here, and write
 * the installer's nix.conf (and netrc) into the run's secret directory. Never throws for a cache
 * problem: the install then streams the closure as it always did, and says why.
 */
export async function runPrepareClosureSource(c: C, built: BuildResult, fetchImpl: FetchLike = defaultFetch): Promise<{ source: ClosureSource; uploads: InstallerUpload[] }> {
  const remote = built.kind !== 'local' ? '; the target builds the system itself (--build-on remote), fetching what it can from its own caches' : '';
  const none = (reason: string) => ({ source: { from: 'operator' as const, reason: `${reason}${remote}` }, uploads: [] });
  const read = await readFleetCache(c, fetchImpl);
  if (!read.ok) return none(read.why);
  const { info, pull } = read.cache;
  const isPrivate = info.isPublic !== true;
  const dir = join(c.secretDir, 'installer-nix');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const uploads: InstallerUpload[] = [{ remotePath: INSTALLER_NIX_CONF, localPath: join(dir, 'nix.conf') }];
  await writeFile(uploads[0]!.localPath, buildInstallerNixConf({ substituter: info.substituterEndpoint, publicKey: info.publicKey, netrc: isPrivate }), { mode: 0o600 });
  if (isPrivate) {
    uploads.push({ remotePath: INSTALLER_NETRC, localPath: join(dir, 'netrc') });
    await writeFile(uploads[1]!.localPath, buildCacheNetrc(info.substituterEndpoint, pull), { mode: 0o600 });
  }
  const name = read.cache.name;
  const cache = { name, substituter: info.substituterEndpoint, publicKey: info.publicKey };
  const base = `the target substitutes from cache "${name}" (${info.substituterEndpoint})`;
  if (built.kind !== 'local') return { source: { from: 'cache', reason: `${base}; the target builds the rest itself (--build-on remote)`, cache }, uploads };
  const pushed = await runPushMissing(c, read.cache, c.secretDir, [built.paths.disko, built.paths.toplevel]);
  const reason = pushed.ok ? `${base}; what it lacked was pushed first with attic` : `${base}; paths it lacks are streamed from here (${pushed.why})`;
  return { source: { from: 'cache', reason, cache, missing: pushed.ok ? 'pushed' : 'streamed' }, uploads };
}

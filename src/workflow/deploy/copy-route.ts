/**
 * Where a deploy's closure comes from (issue 21: "substitute on the host; the fleet cache when
 * configured"). `nix copy --substitute-on-destination` lets the host fetch from ITS OWN
 * substituters every path they have; only the rest crosses the operator's link. So when the
 * flake has an attic cache (`bootstrap cache setup`) and the host trusts it (its /etc/nix/nix.conf,
 * which nix.settings writes, names the cache's substituter and key: the cache.nix bootstrap
 * renders), what the cache lacks is pushed first with the attic client (when it is on PATH and the
 * push token is in the store), and the host substitutes the whole closure from the cache. A host
 * that does not trust the cache would refuse its paths: the copy streams them as before, and the
 * output says so and why. The decision never throws for a cache problem.
 */
import type { FetchLike } from '../../storage/attic-api.js';
import type { SshSession } from '../../ssh/session.js';
import { checkPushReady, defaultFetch, readFleetCache, runPushMissing, type FleetCachePorts } from '../shared/fleet-cache.js';

export interface CopyRoute {
  /** cache: the host substitutes from the fleet cache; operator: what its caches lack streams from here. */
  from: 'cache' | 'operator';
  /** Why, in words for the output and the journal. */
  reason: string;
  cache?: { name: string; substituter: string };
  /** How the paths the cache lacked got there: pushed with attic, or streamed by nix copy. */
  missing?: 'pushed' | 'streamed';
}

/** The substituters and trusted keys a nix.conf sets (extra- included). Pure. */
export function parseNixConfTrust(text: string): { substituters: string[]; keys: string[] } {
  const out = { substituters: [] as string[], keys: [] as string[] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    const m = /^\s*(extra-)?(substituters|trusted-public-keys)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const words = m[3]!.trim().split(/\s+/).filter(Boolean);
    // A plain setting replaces what came before; extra- appends (nix's config semantics).
    const list = m[2] === 'substituters' ? 'substituters' : 'keys';
    out[list] = m[1] ? [...out[list], ...words] : words;
  }
  return out;
}

/** Why the host would not substitute from the cache, or undefined when it would. Pure. */
export function checkHostTrustsCache(conf: string | undefined, cache: { substituter: string; publicKey: string }): string | undefined {
  if (conf === undefined) return 'it has no /etc/nix/nix.conf';
  const t = parseNixConfTrust(conf);
  const norm = (u: string) => u.replace(/\/+$/, '');
  if (!t.substituters.some((s) => norm(s) === norm(cache.substituter))) return `its /etc/nix/nix.conf does not list ${cache.substituter} in substituters`;
  if (!t.keys.includes(cache.publicKey)) return `its /etc/nix/nix.conf does not trust the cache's key ${cache.publicKey.split(':')[0]}`;
  return undefined;
}

/** Read the host's /etc/nix/nix.conf over an open session (undefined when there is none). */
export async function readHostNixConf(s: SshSession): Promise<string | undefined> {
  const r = await s.exec('cat /etc/nix/nix.conf', { timeoutMs: 30_000 });
  return r.code === 0 ? r.stdout : undefined;
}

/**
 * Decide the route of `toplevel` to `host`: the cache (pushing what it lacks first) or this
 * machine. `hostNixConf` reads the host's nix.conf (only called when a cache is configured).
 * `dryRun`: decide only; nothing is pushed (--dry-run).
 */
export async function planCopyRoute(
  c: FleetCachePorts,
  o: { host: string; hostFile: string; toplevel: string; privateDir: string; hostNixConf: () => Promise<string | undefined>; dryRun?: boolean },
  fetchImpl: FetchLike = defaultFetch,
): Promise<CopyRoute> {
  const read = await readFleetCache(c, fetchImpl);
  if (!read.ok) return { from: 'operator', reason: read.why };
  const { name, info } = read.cache;
  const untrusted = checkHostTrustsCache(await o.hostNixConf(), { substituter: info.substituterEndpoint, publicKey: info.publicKey });
  if (untrusted) {
    return { from: 'operator', reason: `cache "${name}" is configured, but ${o.host} would refuse its paths: ${untrusted} (import ./cache.nix in ${o.hostFile} and deploy once)` };
  }
  const cache = { name, substituter: info.substituterEndpoint };
  const base = `${o.host} substitutes from cache "${name}" (${info.substituterEndpoint})`;
  if (o.dryRun) {
    const ready = await checkPushReady(c, read.cache);
    return ready.ok
      ? { from: 'cache', reason: `${base}; what it lacks would be pushed first with attic`, cache, missing: 'pushed' }
      : { from: 'cache', reason: `${base}; paths it lacks would be streamed from here (${ready.why})`, cache, missing: 'streamed' };
  }
  const pushed = await runPushMissing(c, read.cache, o.privateDir, [o.toplevel]);
  if (pushed.ok) return { from: 'cache', reason: `${base}; what it lacked was pushed first with attic`, cache, missing: 'pushed' };
  return { from: 'cache', reason: `${base}; paths it lacks are streamed from here (${pushed.why})`, cache, missing: 'streamed' };
}

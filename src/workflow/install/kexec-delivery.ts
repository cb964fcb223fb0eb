/**
 * The kexec image's way to the target at install time (issue 20, item 3; the routes are described in
 * installer/kexec-route.ts). Preflight refuses a target that cannot download upstream's image when
 * no route is given, and for url/cache has the target download and hash the image over the pinned
 * connection; right before the installer call the fetch runs again (a file with the pinned hash is
 * kept, only hashed) and nixos-anywhere gets the small verifying tarball for --kexec.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failure } from '../../errors.js';
import type { HardwareReport } from '../../probe/report.js';
import { buildFetchScript, buildKexecShimTar, parseFetchOutput, planKexecRoute, type KexecAnswers, type KexecRoute } from '../../installer/kexec-route.js';
import { withSession } from '../../ssh/session.js';
import type { InstallCtx } from './context.js';
import { planPhaseTimeouts } from './installer-options.js';

type C = InstallCtx;

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The flags that deliver an image another way, for hints. */
export const KEXEC_ROUTE_HINT =
  'give the image another way: --kexec-image FILE --kexec-sha256 HEX (uploaded from here), --kexec-url URL --kexec-sha256 HEX (a server the target reaches) or --kexec-from cache --kexec-sha256 HEX (after `bootstrap cache kexec-image FILE`)';

/** The route of the run's answers (checked when they were read). */
export function kexecRouteOf(c: { answers: KexecAnswers }): KexecRoute | undefined {
  return planKexecRoute(c.answers, 'answers');
}

/**
 * A target that will kexec into upstream's image (no route given, not an installer already) must be
 * able to download it: without an IPv4 default route it cannot reach GitHub (and an IPv6-only one
 * would be sent to the third-party gh-v6.com proxy). Unknown (an older report) passes. Pure.
 * A kexec image in the fleet cache is not picked by itself: its pin must come from the operator
 * (--kexec-sha256), not from the storage it would be checked against.
 * @throws failure 'no-route-to-kexec-image'
 */
export function checkKexecReachable(host: string, report: Pick<HardwareReport, 'reach' | 'os'>, route: KexecRoute | undefined): void {
  if (route || report.os.isInstaller) return;
  if (report.reach?.ipv4DefaultRoute !== false) return;
  throw failure('no-route-to-kexec-image', `${host} has no IPv4 default route, so it cannot download the kexec installer image from GitHub; nothing was touched`, KEXEC_ROUTE_HINT);
}

/** Where the image is fetched from, as the output may name it: a presigned URL's query is a credential. */
export function describeSource(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/**
 * Have the target download the image of a url/cache route and hash it there; refuse a different
 * one (both hashes named) or a failed download (the hint: upload it from here). Returns the
 * verified file's path on the target.
 */
export async function runFetchKexecImage(c: C, route: Exclude<KexecRoute, { from: 'local' }>, url: string): Promise<string> {
  const where = describeSource(url);
  const limitMs = planPhaseTimeouts(c).kexec;
  const script = buildFetchScript(route.sha256, Math.max(1, Math.floor(limitMs / 1000)));
  // The script is the command, the URL its stdin: a presigned URL is in no argv on the target.
  const r = await withSession(c.app, c.target, c.ssh, (s) => s.exec(`sh -c ${shellQuote(script)}`, { stdin: `${url}\n`, timeoutMs: limitMs + 30_000 }));
  const out = parseFetchOutput(r.stdout);
  const local = `--kexec-image FILE --kexec-sha256 ${route.sha256} (uploaded from here, checked here)`;
  if (!out) throw failure('kexec-fetch-failed', `fetching the kexec image on ${c.host} gave no answer (exit ${r.code ?? r.signal})${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-1)[0]!.slice(0, 200)}` : ''}`, `run again with --debug, or give it as ${local}`);
  if (out.kind === 'no-downloader') throw failure('kexec-fetch-failed', `${c.host} has neither curl nor wget to download the kexec image`, `give it as ${local}`);
  if (out.kind === 'no-sha256sum') throw failure('kexec-fetch-failed', `${c.host} has no sha256sum to check the kexec image with`, `give it as ${local}`);
  if (out.kind === 'no-space') throw failure('kexec-fetch-failed', `${c.host} could not create ${out.dir} for the kexec image`, `free space in the login user's home, or give it as ${local}`);
  if (out.kind === 'failed') throw failure('kexec-fetch-failed', `${c.host} could not download the kexec image from ${where} (exit ${out.code}${out.error ? `: ${out.error.slice(0, 200)}` : ''}); nothing was booted`, `check that the target reaches ${new URL(url).host}, or give it as ${local}`);
  if (out.sha256 !== route.sha256) {
    throw failure('kexec-image-mismatch', `the kexec image ${c.host} downloaded from ${where} has sha256 ${out.sha256}, not the pinned ${route.sha256}; nothing was booted`, 'the file at the source changed or is not the image you pinned: put the right one there (or pin its hash with --kexec-sha256 after checking it)');
  }
  c.out.debug(`kexec image on ${c.host}: ${out.path} (${out.kept ? 'already there' : `downloaded from ${where}`}), sha256 ${out.sha256}`);
  return out.path;
}

/** Which kexec image the run booted and where it was checked, for --json and the summary. Pure. */
export function buildKexecImageJson(p: { answers: KexecAnswers; report: Pick<HardwareReport, 'os'> }): { from: string; sha256?: string; url?: string; checked: string } {
  if (p.report.os.isInstaller) return { from: 'none', checked: 'no kexec: the target was a NixOS installer already' };
  const route = kexecRouteOf(p);
  if (!route) return { from: 'upstream', checked: "not verified: upstream's default image, downloaded by the target" };
  if (route.from === 'local') return { from: 'local', sha256: route.sha256, checked: 'here, before the build and again before the installer call; uploaded by the installer' };
  return { from: route.from, sha256: route.sha256, ...(route.from === 'url' ? { url: describeSource(route.url) } : {}), checked: 'on the target, after its download and again right before kexec' };
}

/** The URL the target downloads a url/cache route's image from (a presigned GET for the cache). */
export async function resolveKexecSourceUrl(c: C, route: Exclude<KexecRoute, { from: 'local' }>): Promise<string> {
  if (route.from === 'url') return route.url;
  const { presignKexecImageUrl } = await import('./kexec-cache.js');
  return presignKexecImageUrl(c, route.sha256, planPhaseTimeouts(c).kexec);
}

/**
 * Right before the installer call that runs kexec: for url/cache the verified image on the target
 * (fetched again if it went) and the small tarball whose kexec/run checks it once more before it
 * boots it; the path handed to nixos-anywhere --kexec. Undefined: a local route or none.
 */
export async function runPrepareKexecTarball(c: C): Promise<string | undefined> {
  const route = kexecRouteOf(c);
  if (!route || route.from === 'local') return undefined;
  const onTarget = await runFetchKexecImage(c, route, await resolveKexecSourceUrl(c, route));
  const file = join(c.secretDir, 'kexec-verified.tar');
  await writeFile(file, buildKexecShimTar(onTarget, route.sha256), { mode: 0o600 });
  return file;
}

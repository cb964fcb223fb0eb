/**
 * `bootstrap status`: the health report of hosts of the flake, from their manifests (target,
 * port), several at a time. Every connection is pinned to the flake's known host keys and never
 * prompts: a host whose key changed or is unknown is a failure naming the keys. Manifests are
 * read before any connection, so a misspelt host name is bad input (exit 2) and nothing is reached.
 */
import { hostDir, listMappedHosts } from '../../config/host-dir.js';
import { isHostName } from '../../host-name.js';
import { readdir, access } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createPrompter } from '../../ports/prompter.js';
import { buildSshFromChoices } from '../../ssh/ssh-choices.js';
import type { AppContext } from '../../context.js';
import { assertFlakeDirExists, loadConfig, type LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import { readManifest, MANIFEST_FILE } from '../../manifest/manifest.js';
import type { Manifest } from '../../manifest/schema.js';
import { formatTarget } from '../../ssh/target.js';
import { buildLoginTargetText } from '../../manifest/login.js';
import { runHealthReport, type HealthTarget } from '../../health/collect.js';
import { buildExpectations, readBuiltToplevel, type HealthContext } from '../../health/expect.js';
import { renderHealthReport, renderHealthTable, type Paint } from '../../health/render.js';
import { countChecks, type HealthReport } from '../../health/report.js';
import { runPool } from '../fleet/index.js';

export interface StatusOptions {
  /** Host names, or 'all' for every host with a manifest. */
  hosts: string[] | 'all';
  flakeDir: string;
  parallel: number;
  json: boolean;
  strict: boolean;
  identity?: string;
  /** --timeout SECONDS (connect). */
  timeout?: string;
}

/** Hosts of the flake holding a manifest, sorted: folders of hostsDir, and [hosts.NAME] dir mappings. */
export async function listFlakeHosts(loaded: LoadedConfig): Promise<string[]> {
  const dir = join(loaded.flakeDir, loaded.config.hostsDir);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  // Folders named after their host, and hosts mapped elsewhere with [hosts.NAME] dir.
  const candidates = new Map<string, string>(names.filter((n) => !Object.hasOwn(loaded.config.hosts, n) && isHostName(n)).map((n) => [n, join(dir, n)]));
  for (const m of listMappedHosts(loaded.config)) candidates.set(m.host, join(loaded.flakeDir, m.dir));
  const out: string[] = [];
  for (const [n, d] of [...candidates].sort(([a], [b]) => a.localeCompare(b))) {
    try {
      await access(join(d, MANIFEST_FILE));
      out.push(n);
    } catch {
      /* a host directory without a manifest is not installed by us */
    }
  }
  return out;
}

/** Exit code of a status run: 1 when a host fails (or warns, with --strict), else 0. Pure. */
export function buildStatusExitCode(reports: readonly Pick<HealthReport, 'status'>[], strict: boolean): number {
  if (reports.some((r) => r.status === 'fail')) return 1;
  if (strict && reports.some((r) => r.status === 'warn')) return 1;
  return 0;
}

function errorReport(host: string, target: string, code: string, message: string, hint: string | undefined, now: Date): HealthReport {
  return { host, target, status: 'fail', collectedAt: now.toISOString(), seconds: 0, checks: [], counts: countChecks([]), error: { code, message, ...(hint ? { hint } : {}) } };
}

/**
 * What to check on one host: its target and pinned SSH options, and what it should look like.
 * `ports.prompts` must be non-interactive (a changed key is an error, never a question).
 */
export async function buildHealthTarget(
  ports: Pick<AppContext, 'out' | 'prompts' | 'env' | 'cwd'>,
  loaded: LoadedConfig,
  host: string,
  manifest: Manifest,
  context: HealthContext,
  o: { target?: string; identity?: string; timeout?: string; passwordEnv?: string } = {},
): Promise<HealthTarget> {
  // After the install: as the manifest's [login] user when root may not log in (issue 18).
  const targetText = o.target ?? buildLoginTargetText(manifest)!;
  const { target, ssh } = buildSshFromChoices(ports, {
    target: targetText,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.timeout ? { timeout: o.timeout } : {}),
    ...(o.passwordEnv ? { passwordEnv: o.passwordEnv } : {}),
    flakeDir: loaded.flakeDir,
    stateDir: loaded.config.stateDir,
  });
  const built = await readBuiltToplevel(loaded.flakeDir, loaded.config.stateDir, host);
  return {
    host,
    target,
    ssh,
    expectations: buildExpectations(host, manifest, loaded.config, built, context),
    pinLabel: relative(loaded.flakeDir, ssh.hostKeys.pinFile) || ssh.hostKeys.pinFile,
  };
}

/** Collects one host's report (runHealthReport; a fake in tests). */
export type HealthCollector = (ports: AppContext, t: HealthTarget, opts: { includeFacts: boolean }) => Promise<HealthReport>;

export async function runStatus(app: AppContext, o: StatusOptions, round?: number, collect: HealthCollector = runHealthReport): Promise<{ reports: HealthReport[]; exitCode: number }> {
  const flakeDir = resolve(app.cwd, o.flakeDir);
  await assertFlakeDirExists(flakeDir);
  const loaded = await loadConfig(flakeDir);
  const hosts = o.hosts === 'all' ? await listFlakeHosts(loaded) : o.hosts;
  if (!hosts.length) throw usageError('no-hosts', `${loaded.config.hostsDir}/ of ${flakeDir} holds no host manifest`, 'install a host with `bootstrap new-host` first, or pass --flake DIR');
  // Bad input first: every named host must have a readable manifest before anything is reached.
  // Read all at once; the error is the first bad host's in the order given, as read one by one.
  const read = await Promise.allSettled(hosts.map((h) => readManifest(flakeDir, h)));
  const bad = read.find((r) => r.status === 'rejected');
  if (bad) throw bad.reason;
  const manifests = new Map<string, Manifest>(hosts.map((h, i) => [h, (read[i] as PromiseFulfilledResult<Manifest>).value]));

  const quiet = { ...app, prompts: createPrompter(false) };
  const reports = await runPool(hosts, o.parallel, async (host): Promise<HealthReport> => {
    const m = manifests.get(host)!;
    if (!m.target) return errorReport(host, '-', 'no-target', `${host}'s manifest names no target`, `add target = "root@HOST" to ${hostDir(loaded.config, host)}/${MANIFEST_FILE}`, app.clock.now());
    let t: HealthTarget;
    try {
      t = await buildHealthTarget(quiet, loaded, host, m, 'status', { ...(o.identity ? { identity: o.identity } : {}), ...(o.timeout ? { timeout: o.timeout } : {}) });
    } catch (e) {
      const err = e as { code?: string; message?: string; hint?: string };
      return errorReport(host, m.target, err.code ?? 'internal', err.message ?? String(e), err.hint, app.clock.now());
    }
    const r = await collect(app, t, { includeFacts: o.json });
    app.out.debug(`${host} (${formatTarget(t.target)}): ${r.status} in ${r.seconds} s`);
    return r;
  });

  const exitCode = buildStatusExitCode(reports, o.strict);
  if (o.json && round !== undefined) app.out.data(JSON.stringify({ round, ok: exitCode === 0, strict: o.strict, hosts: reports }));
  else if (o.json) app.out.json({ ok: exitCode === 0, strict: o.strict, hosts: reports });
  else {
    if (round !== undefined) app.out.data(`${round > 1 && app.out.color ? '\x1b[2J\x1b[H' : ''}— ${app.clock.now().toISOString().replace(/\.\d+Z$/, 'Z')}, round ${round} —`);
    const paint: Paint = (c, t) => app.out.paint(c, t);
    if (reports.length === 1) app.out.data(renderHealthReport(reports[0]!, paint));
    else {
      for (const r of reports) if (r.status !== 'ok') app.out.data(renderHealthReport(r, paint, { onlyProblems: true }) + '\n');
      app.out.data(renderHealthTable(reports, paint));
    }
  }
  return { reports, exitCode };
}

/**
 * `--watch`: the report again every `everyMs` until Ctrl-C (exit 130, as every interrupt). Each
 * round connects afresh, so a host that comes back or a key that changes shows in the next round.
 */
export async function runStatusWatch(app: AppContext, o: StatusOptions, everyMs: number): Promise<number> {
  for (let round = 1; !app.signal.aborted; round++) {
    await runStatus(app, o, round);
    await new Promise<void>((done) => {
      const timer = setTimeout(finish, everyMs);
      function finish() {
        clearTimeout(timer);
        app.signal.removeEventListener('abort', finish);
        done();
      }
      app.signal.addEventListener('abort', finish, { once: true });
    });
  }
  return 130;
}

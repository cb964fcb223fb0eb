/**
 * `bootstrap status`: the health report of hosts of the flake, from their manifests (target,
 * port), several at a time. Every connection is pinned to the flake's known host keys and never
 * prompts: a host whose key changed or is unknown is a failure naming the keys. Manifests are
 * read before any connection, so a misspelt host name is bad input (exit 2) and nothing is reached.
 */
import { hostDir } from '../../config/host-dir.js';
import { resolve } from 'node:path';
import { createPrompter } from '../../ports/prompter.js';
import type { AppContext } from '../../context.js';
import { MANIFEST_FILE } from '../../manifest/manifest.js';
import { formatTarget } from '../../ssh/target.js';
import { runHealthReport, type HealthTarget } from '../../health/collect.js';
import { renderHealthReport, renderHealthTable, type Paint } from '../../health/render.js';
import { countChecks, type HealthReport } from '../../health/report.js';
import { readFleetManifests } from '../shared/fleet-manifests.js';
import { runPool } from '../shared/pool.js';
import { listFlakeHosts } from '../../manifest/flake-hosts.js';
import { buildHealthTarget } from '../shared/health-target.js';

/** Moved below every workflow (issue 21); re-exported for callers that still import them here. */
export { listFlakeHosts, buildHealthTarget };
import { buildDriftFacts, classifyDrift, describeDrift, renderDriftTable, type DriftFacts, type HostDrift } from './drift.js';
import { runFlakeToplevel } from './drift-collect.js';

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
  /** --ssh-config FILE (ssh -F) to resolve the manifests' targets with. */
  sshConfig?: string;
  /** --via tailnet|target: force the route (default: the tailnet name when it resolves, issue 21). */
  via?: 'tailnet' | 'target';
  /** Compare each host with the flake's current evaluation (drift.ts); the CLI's default, --no-drift skips it. */
  drift?: boolean;
}

/** A host's report with its drift, when asked for. */
export type StatusReport = HealthReport & { drift?: HostDrift };

/** Exit code of a status run: 1 when a host fails (or warns, with --strict), else 0. Pure. */
export function buildStatusExitCode(reports: readonly Pick<HealthReport, 'status'>[], strict: boolean): number {
  if (reports.some((r) => r.status === 'fail')) return 1;
  if (strict && reports.some((r) => r.status === 'warn')) return 1;
  return 0;
}

function errorReport(host: string, target: string, code: string, message: string, hint: string | undefined, now: Date): HealthReport {
  return { host, target, status: 'fail', collectedAt: now.toISOString(), seconds: 0, checks: [], counts: countChecks([]), error: { code, message, ...(hint ? { hint } : {}) } };
}

/** Collects one host's report (runHealthReport; a fake in tests). */
export type HealthCollector = (ports: AppContext, t: HealthTarget, opts: { includeFacts: boolean }) => Promise<HealthReport>;

export async function runStatus(app: AppContext, o: StatusOptions, round?: number, collect: HealthCollector = runHealthReport): Promise<{ reports: StatusReport[]; exitCode: number }> {
  const { flakeDir, loaded, hosts, manifests } = await readFleetManifests(app, o.flakeDir, o.hosts);

  const quiet = { ...app, prompts: createPrompter(false) };
  const withDrift = async (r: HealthReport, facts: DriftFacts | undefined, flake: Promise<{ system: string | null; error?: string }> | undefined): Promise<StatusReport> =>
    flake ? { ...r, drift: classifyDrift(r, facts, await flake) } : r;
  const reports = await runPool(hosts, o.parallel, async (host): Promise<StatusReport> => {
    const m = manifests.get(host)!;
    // The flake's side of the drift is evaluated here while the host is reached (no build).
    const flake = o.drift ? runFlakeToplevel(app, flakeDir, host) : undefined;
    if (!m.target) return withDrift(errorReport(host, '-', 'no-target', `${host}'s manifest names no target`, `add target = "root@HOST" to ${hostDir(loaded.config, host)}/${MANIFEST_FILE}`, app.clock.now()), undefined, flake);
    let t: HealthTarget;
    try {
      t = await buildHealthTarget(quiet, loaded, host, m, 'status', { ...(o.identity ? { identity: o.identity } : {}), ...(o.timeout ? { timeout: o.timeout } : {}), ...(o.sshConfig ? { sshConfig: o.sshConfig } : {}), ...(o.via ? { route: o.via } : {}) });
    } catch (e) {
      const err = e as { code?: string; message?: string; hint?: string };
      return withDrift(errorReport(host, m.target, err.code ?? 'internal', err.message ?? String(e), err.hint, app.clock.now()), undefined, flake);
    }
    // The drift's host side is in the report's facts: one connection and one exec per host.
    const full = await collect(app, t, { includeFacts: o.json || !!o.drift });
    app.out.debug(`${host} (${formatTarget(t.target)}): ${full.status} in ${full.seconds} s`);
    const { facts, ...bare } = full;
    return withDrift(o.json ? full : bare, o.drift && facts ? buildDriftFacts(facts) : undefined, flake);
  });

  const exitCode = buildStatusExitCode(reports, o.strict);
  if (o.json && round !== undefined) app.out.data(JSON.stringify({ round, ok: exitCode === 0, strict: o.strict, hosts: reports }));
  else if (o.json) app.out.json({ ok: exitCode === 0, strict: o.strict, hosts: reports });
  else {
    if (round !== undefined) app.out.data(`${round > 1 && app.out.color ? '\x1b[2J\x1b[H' : ''}— ${app.clock.now().toISOString().replace(/\.\d+Z$/, 'Z')}, round ${round} —`);
    const paint: Paint = (c, t) => app.out.paint(c, t);
    if (reports.length === 1) {
      const r = reports[0]!;
      app.out.data(renderHealthReport(r, paint));
      if (r.drift) app.out.data(describeDrift(r.host, r.drift).map((l) => `  ${l}`).join('\n'));
      // --all is the fleet's table, even of a fleet of one.
      if (r.drift && o.hosts === 'all') app.out.data('\n' + renderDriftTable([{ host: r.host, drift: r.drift }]));
    } else {
      for (const r of reports) if (r.status !== 'ok') app.out.data(renderHealthReport(r, paint, { onlyProblems: true }) + '\n');
      app.out.data(renderHealthTable(reports, paint));
      const drift = reports.flatMap((r) => (r.drift ? [{ host: r.host, drift: r.drift }] : []));
      if (drift.length) app.out.data('\n' + renderDriftTable(drift));
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

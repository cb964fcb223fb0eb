/**
 * `bootstrap deploy HOST… | --all`: each host through the deploy steps (steps.ts, host.ts), several
 * at a time (--parallel), canaries first (--canary N: if one of them is not deployed, the others
 * are not started). Manifests are read before anything is built, so a misspelt host is bad input
 * and nothing is touched. The exit code says what happened: 0 every host deployed (or already ran
 * its system), DEPLOY_ROLLED_BACK_EXIT when hosts were rolled back (verified) and none failed
 * otherwise, 1 when a host failed (an unverified rollback is a failure).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '../../context.js';
import { hostDir } from '../../config/host-dir.js';
import { usageError } from '../../errors.js';
import { MANIFEST_FILE } from '../../manifest/manifest.js';
import { createPrompter } from '../../ports/prompter.js';
import { renderHealthReport } from '../../health/render.js';
import { buildLogStamp, statePaths } from '../../config/state-paths.js';
import { readFleetManifests } from '../shared/fleet-manifests.js';
import { runPool } from '../shared/pool.js';
import { buildHealthTarget } from '../shared/health-target.js';
import { hostOutput } from '../shared/host-output.js';
import { runDeployHost, type DeployHostResult } from './host.js';
import { buildDeployJournal } from './state.js';
import { runDeployDryRun } from './dry-run.js';
import type { SecretStore } from '../../secrets/store.js';

/** Exit code of a deploy that rolled hosts back (each verified on its previous generation). */
export const DEPLOY_ROLLED_BACK_EXIT = 4;

export interface DeployOptions {
  hosts: string[] | 'all';
  flakeDir: string;
  parallel: number;
  canary: number;
  buildOn: 'local' | 'remote';
  confirmTimeout: number;
  resume: boolean;
  /** Switch even when the lock-out guard refuses (recorded in the deploy journal). */
  allowLockout?: boolean;
  from?: string;
  dryRun: boolean;
  json: boolean;
  identity?: string;
  timeout?: string;
  /** --ssh-config FILE (ssh -F): overrides each manifest's [ssh] config (issue 20). */
  sshConfig?: string;
  /** --via tailnet|target: force the route (default: the tailnet name when it resolves, issue 21). */
  via?: 'tailnet' | 'target';
}

/** The exit code of a deploy. Pure. */
export function buildDeployExitCode(results: readonly Pick<DeployHostResult, 'status'>[]): number {
  if (results.some((r) => r.status === 'failed')) return 1;
  if (results.some((r) => r.status === 'rolled-back')) return DEPLOY_ROLLED_BACK_EXIT;
  return 0;
}

/** The canaries first, then the rest, stopping when a canary was not deployed. */
export async function runCanaries<R extends { status: string }>(hosts: readonly string[], canary: number, parallel: number, work: (h: string) => Promise<R>, skipped: (h: string) => R): Promise<R[]> {
  const first = hosts.slice(0, canary);
  const head = await runPool(first, parallel, work);
  const rest = hosts.slice(first.length);
  if (canary > 0 && head.some((r) => r.status !== 'deployed' && r.status !== 'unchanged')) return [...head, ...rest.map(skipped)];
  return [...head, ...(await runPool(rest, parallel, work))];
}

export function buildDeployTable(results: readonly DeployHostResult[]): string {
  const w = Math.max(4, ...results.map((r) => r.host.length)) + 2;
  const rows = results.map((r) => `${r.host.padEnd(w)}${r.status.padEnd(13)}${`${r.seconds.toFixed(1)}s`.padEnd(9)}${r.error ? r.error.message : r.toplevel ?? ''}`);
  return [`${'HOST'.padEnd(w)}${'STATUS'.padEnd(13)}${'TIME'.padEnd(9)}DETAIL`, ...rows].join('\n');
}

export async function runDeploy(app: AppContext, o: DeployOptions): Promise<number> {
  const { flakeDir, loaded, hosts, manifests } = await readFleetManifests(app, o.flakeDir, o.hosts);
  for (const [h, m] of manifests) if (!m.target) throw usageError('no-target', `${h}'s manifest names no target`, `add target = "root@HOST" to ${hostDir(loaded.config, h)}/${MANIFEST_FILE}`);

  // Never a question: a changed or unknown host key is an error naming both keys.
  const quiet = { ...app, prompts: createPrompter(false) };
  const sshChoices = { ...(o.identity ? { identity: o.identity } : {}), ...(o.timeout ? { timeout: o.timeout } : {}), ...(o.sshConfig ? { sshConfig: o.sshConfig } : {}), ...(o.via ? { route: o.via } : {}) };
  if (o.dryRun) return runDeployDryRun(quiet, loaded, hosts, manifests, { buildOn: o.buildOn, json: o.json, parallel: o.parallel, ssh: sshChoices });

  const many = hosts.length > 1;
  const paths = statePaths(flakeDir, loaded.config.stateDir);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const stamp = buildLogStamp(app.clock.now());
  if (many) app.out.info(`deploying ${hosts.length} hosts, ${o.parallel} at a time${o.canary ? `, ${o.canary} canar${o.canary === 1 ? 'y' : 'ies'} first` : ''}; per-host logs in ${paths.logs}`);

  // The secret store (the fleet cache's tokens), opened once, when a copy first asks for it.
  let opened: Promise<SecretStore> | undefined;
  const store = () => (opened ??= import('../../secrets/open-store.js').then((m) => m.openSecretStore(loaded, app)));
  const work = async (host: string): Promise<DeployHostResult> => {
    const log = many ? hostOutput(app, host, join(paths.logs, `deploy-${host}-${stamp}.log`)) : undefined;
    const hostApp: AppContext = log ? { ...quiet, out: log.out } : quiet;
    try {
      const health = await buildHealthTarget(hostApp, loaded, host, manifests.get(host)!, 'install', sshChoices);
      const r = await runDeployHost(hostApp, {
        loaded, store, host, flakeDir, stateDir: loaded.config.stateDir, health, journal: buildDeployJournal(flakeDir, host, loaded.config.stateDir),
        opts: {
          buildOn: o.buildOn, confirmTimeout: o.confirmTimeout, resume: o.resume, allowLockout: o.allowLockout ?? false,
          hostFile: `${hostDir(loaded.config, host)}/default.nix`, ...(o.identity ? { identity: o.identity } : {}),
        }, ...(o.from ? { from: o.from } : {}),
      });
      if (r.status === 'rolled-back') hostApp.out.error(`${host} was rolled back (${r.rollback!.by === 'timer' ? "by the host's timer" : 'by bootstrap'}): ${r.error!.message}`);
      else if (r.status === 'failed') hostApp.out.error(`${host}: ${r.error!.message}${r.error!.hint ? `\n  hint: ${r.error!.hint}` : ''}`);
      return r;
    } catch (e) {
      const err = e as { code?: string; message?: string; hint?: string };
      hostApp.out.error(`${host}: ${err.message ?? String(e)}`);
      return { host, status: 'failed', seconds: 0, error: { code: err.code ?? 'internal', message: err.message ?? String(e), ...(err.hint ? { hint: err.hint } : {}) } };
    } finally {
      log?.close();
    }
  };
  const skipped = (host: string): DeployHostResult => ({ host, status: 'skipped', seconds: 0, error: { code: 'canary-failed', message: 'not started: a canary was not deployed' } });
  const results = await runCanaries(hosts, o.canary, o.parallel, work, skipped);
  if (app.signal.aborted) return 130;
  const code = buildDeployExitCode(results);
  if (o.json) {
    app.out.json({ ok: code === 0, exitCode: code, hosts: results });
    return code;
  }
  if (many) app.out.data(buildDeployTable(results));
  else {
    const r = results[0]!;
    if (r.health && r.status !== 'deployed' && r.status !== 'unchanged') app.out.data(renderHealthReport(r.health, (c, t) => app.out.paint(c, t), { onlyProblems: true }));
    if (r.status === 'deployed') app.out.success(`${r.host} runs ${r.toplevel}; it is the boot default`);
    else if (r.status === 'unchanged') app.out.success(`${r.host} already ran ${r.toplevel}`);
  }
  return code;
}

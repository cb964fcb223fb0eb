/**
 * Deploy one host: the steps (steps.ts) under the host lock, and what happens when one fails after
 * the rollback timer was armed: roll back now (over the connection opened before the switch, else
 * a new one, else by waiting for the host's own timer), then VERIFY over a new connection that the
 * host runs the previous generation. A rollback is never reported as success, and an unverified
 * one is not reported as a rollback.
 */
import type { AppContext } from '../../context.js';
import { failure, isBootstrapError, messageOf } from '../../errors.js';
import type { HealthTarget } from '../../health/collect.js';
import { openSession, type SshSession } from '../../ssh/session.js';
import { buildRunId, runSteps } from '../step.js';
import type { Journal } from '../journal.js';
import { buildBuiltPath } from '../install/preflight-nix.js';
import { buildStatePath } from '../install/state.js';
import { DEPLOY_STEPS, type DeployCtx, type DeployHostOptions } from './steps.js';
import { buildCurrentScript, buildRemoteCommand, buildRollbackNowScript, parseKeyLines } from './remote.js';
import { buildDeployStatePath, loadDeployState, saveBuiltToplevel, saveDeployState } from './state.js';
import type { HealthReport } from '../../health/report.js';
import type { LoadedConfig } from '../../config/load.js';
import type { SecretStore } from '../../secrets/store.js';
import type { CopyRoute } from './copy-route.js';
import type { RouteTransfer } from './nix-route.js';

export type DeployStatus = 'deployed' | 'unchanged' | 'rolled-back' | 'failed' | 'skipped';

export interface DeployHostResult {
  host: string;
  status: DeployStatus;
  seconds: number;
  toplevel?: string;
  previous?: string;
  /** rolled-back and failed: why (the check that failed, named). */
  error?: { code: string; message: string; hint?: string };
  /** rolled-back: who rolled back, and what the host runs now (verified over a new connection). */
  rollback?: { by: 'bootstrap' | 'timer'; current: string };
  health?: HealthReport;
  /** The copy's route (cache or this machine, and why) and the bytes its ssh connections sent from here. */
  copy?: CopyRoute & RouteTransfer;
}

/** How long to wait for the host's own timer when bootstrap cannot reach it: the timer's deadline plus this. */
const TIMER_GRACE_MS = 60_000;
const RETRY_MS = 2_000;

async function tryExec(app: AppContext, s: SshSession | undefined, user: string, script: string): Promise<Record<string, string> | undefined> {
  if (!s) return undefined;
  try {
    const r = await s.exec(buildRemoteCommand(user), { stdin: script, timeoutMs: 5 * 60_000 });
    return r.code === 0 ? parseKeyLines(r.stdout) : undefined;
  } catch (e) {
    app.out.debug(`rollback: ${messageOf(e)}`);
    return undefined;
  }
}

async function tryNew(app: AppContext, t: HealthTarget): Promise<SshSession | undefined> {
  try {
    return await openSession(app, t.target, t.ssh);
  } catch (e) {
    app.out.debug(`rollback: new connection: ${messageOf(e)}`);
    return undefined;
  }
}

/**
 * Roll back and verify. Returns what the host runs, verified over a NEW connection, or throws
 * 'rollback-unverified' when no connection could confirm the previous generation in time.
 */
export async function runRollback(c: Pick<DeployCtx, 'app' | 'health' | 'state' | 'old' | 'opts' | 'host'>, armedAtMs: number): Promise<{ by: 'bootstrap' | 'timer'; current: string }> {
  const { app, health } = c;
  const user = health.target.user;
  const task = app.out.task(`rolling ${c.host} back to ${c.state.previous}`);
  let by: 'bootstrap' | 'timer' = 'bootstrap';
  let done = await tryExec(app, c.old, user, buildRollbackNowScript(c.state.unit!, c.state.previous!));
  if (!done) {
    const s = await tryNew(app, health);
    done = await tryExec(app, s, user, buildRollbackNowScript(c.state.unit!, c.state.previous!));
    s?.close();
  }
  // Unreachable both ways: the host's timer rolls back by itself; wait for it, then verify.
  const deadline = armedAtMs + c.opts.confirmTimeout * 1000 + TIMER_GRACE_MS;
  let current: string | undefined;
  if (!done) {
    by = 'timer';
    task.update(`unreachable: waiting for the host's own rollback timer (${c.opts.confirmTimeout} s after the switch)`);
  }
  while (!app.signal.aborted) {
    const s = await tryNew(app, health);
    current = (await tryExec(app, s, user, buildCurrentScript()))?.current;
    s?.close();
    if (current === c.state.previous) break;
    if (Date.now() >= deadline) break;
    await app.clock.sleep(RETRY_MS);
  }
  if (current !== c.state.previous) {
    task.fail();
    throw failure(
      'rollback-unverified',
      `${c.host} could not be verified on its previous generation ${c.state.previous}${current ? `: it runs ${current}` : ': it does not answer over a new connection'}`,
      `reach it another way (console, \`bootstrap rescue ${c.host}\`) and run \`${c.state.previous}/bin/switch-to-configuration switch\``,
    );
  }
  task.done(`${c.host} runs ${current} again (verified over a new connection)`);
  return { by, current: current! };
}

export async function runDeployHost(app: AppContext, o: { loaded: LoadedConfig; store(): Promise<SecretStore>; host: string; flakeDir: string; stateDir: string; health: HealthTarget; journal: Journal; opts: DeployHostOptions; from?: string }): Promise<DeployHostResult> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  const statePath = buildDeployStatePath(o.journal);
  const c: DeployCtx = {
    app, out: app.out, signal: app.signal, clock: app.clock, loaded: o.loaded, store: o.store, host: o.host, flakeDir: o.flakeDir, health: o.health, opts: o.opts,
    // Always read: a pending unconfirmed switch of an earlier run matters to every later one.
    state: await loadDeployState(statePath), statePath, runId: '',
  };
  try {
    const runId = buildRunId(app.clock.now());
    c.runId = runId;
    await runSteps(DEPLOY_STEPS, c, { journal: o.journal, resume: o.opts.resume, ...(o.from ? { from: o.from } : {}), runId });
    if (!c.state.unchanged) await saveBuiltToplevel(buildBuiltPath(buildStatePath(o.flakeDir, o.stateDir, o.host)), c.state.toplevel!);
    // Confirmed: nothing is pending any more.
    await saveDeployState(statePath, { toplevel: c.state.toplevel! });
    return { host: o.host, status: c.state.unchanged ? 'unchanged' : 'deployed', seconds: seconds(), toplevel: c.state.toplevel!, ...(c.state.previous ? { previous: c.state.previous } : {}), ...(c.report ? { health: c.report } : {}), ...(c.copy ? { copy: c.copy } : {}) };
  } catch (e) {
    const error = isBootstrapError(e) ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { code: 'internal', message: messageOf(e) };
    const armed = !!c.state.unit && !!c.state.previous && !c.state.unchanged;
    if (!armed || app.signal.aborted) {
      if (armed) error.hint = `the host rolls back by itself ${o.opts.confirmTimeout} s after the switch unless a --resume confirms it`;
      return { host: o.host, status: 'failed', seconds: seconds(), ...(c.state.toplevel ? { toplevel: c.state.toplevel } : {}), error, ...(c.report ? { health: c.report } : {}), ...(c.copy ? { copy: c.copy } : {}) };
    }
    try {
      const rollback = await runRollback(c, c.armedAt ?? Date.now());
      // The host's timer fired before the confirmation: it rolled back, bootstrap only verified.
      if (error.code === 'deploy-timer-fired') rollback.by = 'timer';
      await saveDeployState(statePath, {});
      return { host: o.host, status: 'rolled-back', seconds: seconds(), toplevel: c.state.toplevel!, previous: c.state.previous!, error, rollback, ...(c.report ? { health: c.report } : {}), ...(c.copy ? { copy: c.copy } : {}) };
    } catch (r) {
      const rerr = isBootstrapError(r) ? { code: r.code, message: `${error.message}; then ${r.message}`, ...(r.hint ? { hint: r.hint } : {}) } : { code: 'internal', message: messageOf(r) };
      return { host: o.host, status: 'failed', seconds: seconds(), toplevel: c.state.toplevel!, previous: c.state.previous!, error: rerr };
    }
  } finally {
    c.old?.close();
    c.checked?.close();
  }
}

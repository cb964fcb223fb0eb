/**
 * The steps of deploying one host (journaled, resumable with --resume like an install):
 * (before them, unjournaled, the lock-out guard: host.ts runDeployGuard)
 *   build    evaluate and build the toplevel here (--build-on remote: on the host)
 *   copy     the closure to the host (nix copy --substitute-on-destination)
 *   switch   read what the host runs, arm the rollback timer on the host, switch-to-configuration switch
 *   check    a NEW pinned connection: the health report plus the host's declared checks
 *   confirm  stop the timer (after making sure it had not fired), make the system the boot default
 * A failure after the timer is armed is rolled back by host.ts; these steps only throw.
 */
import type { AppContext } from '../../context.js';
import { failure, messageOf } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import type { Task } from '../../ports/output.js';
import { runHealthReport, type HealthTarget } from '../../health/collect.js';
import type { HealthReport } from '../../health/report.js';
import { openSession, type SshSession } from '../../ssh/session.js';
import { formatTarget } from '../../ssh/target.js';
import type { Step, StepContext } from '../step.js';
import { buildCopyArgv, buildNixSshOpts, buildToplevelArgv, parseToplevelJson } from './nix.js';
import {
  buildArmScript, buildConfirmScript, buildReadStateScript, buildRemoteCommand, buildRollbackUnit, buildSwitchScript, CONFIRM_ROLLED_BACK, parseKeyLines,
} from './remote.js';
import { saveDeployState, type DeployState } from './state.js';

export interface DeployHostOptions {
  buildOn: 'local' | 'remote';
  /** Seconds the host waits for the confirmation before it rolls back by itself. */
  confirmTimeout: number;
  resume: boolean;
  /** Switch even when the lock-out guard says the new config would shut the operator out. */
  allowLockout: boolean;
  /** The private key bootstrap logs in with (-i): its .pub is the operator's key the guard checks. */
  identity?: string;
  /** The host's default.nix, named in the guard's refusal. */
  hostFile: string;
}

export interface DeployCtx extends StepContext {
  app: AppContext;
  host: string;
  flakeDir: string;
  health: HealthTarget;
  opts: DeployHostOptions;
  state: DeployState;
  statePath: string;
  runId: string;
  /** The connection opened before the switch: it may be what still works after it. */
  old?: SshSession;
  report?: HealthReport;
  /** When the rollback timer was armed (ms): a rollback waits for it at most that long after. */
  armedAt?: number;
  /** The switch exited non-zero: the deploy fails even when every check passes. */
  switchError?: string;
  /** An --allow-lockout override of the guard (host.ts, before the build): the switch step's journal detail. */
  lockoutDetail?: string;
}

const NIX_TIMEOUT_MS = 60 * 60_000;
const SHORT_MS = 60_000;

/** The checks that failed, named, for the message of a rollback. Pure. */
export function describeFailedReport(r: HealthReport): string {
  if (r.error) return `the host could not be checked over a new connection: ${r.error.message}`;
  const failed = r.checks.filter((c) => c.status === 'fail');
  return `check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => `${c.id} (${c.summary})`).join('; ')}`;
}

async function nix(c: DeployCtx, argv: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    return (await c.app.run(argv, { cwd: c.flakeDir, signal: c.signal, timeoutMs: NIX_TIMEOUT_MS, env, group: true })).stdout;
  } catch (e) {
    if (e instanceof CommandFailed) {
      const err = e.result.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('warning:'));
      const at = err.findIndex((l) => l.startsWith('error:'));
      throw failure(argv.includes('copy') ? 'copy-failed' : 'build-failed', `nix ${argv.includes('copy') ? 'copy' : 'build'} of ${c.host} failed: ${(at >= 0 ? err.slice(at, at + 2) : err.slice(-2)).join(' ').slice(0, 400)}`, 'fix it, then run again with --resume; the host was not touched');
    }
    throw e;
  }
}

async function remote(c: DeployCtx, s: SshSession, script: string, timeoutMs = SHORT_MS) {
  return s.exec(buildRemoteCommand(c.health.target.user), { stdin: script, timeoutMs });
}

const nixEnv = (c: DeployCtx) => ({ NIX_SSHOPTS: buildNixSshOpts(c.health.target, c.health.ssh.hostKeys.pinFile) });

export const DEPLOY_STEPS: Step<DeployCtx>[] = [
  {
    id: 'build',
    title: 'build the system',
    async run(c, progress) {
      progress.update(c.opts.buildOn === 'remote' ? `evaluating here, building on ${formatTarget(c.health.target)}` : 'nix build');
      const argv = buildToplevelArgv(c.flakeDir, c.host, c.opts.buildOn === 'remote' ? c.health.target : undefined);
      const toplevel = parseToplevelJson(await nix(c, argv, c.opts.buildOn === 'remote' ? nixEnv(c) : {}));
      // An earlier run's switch that was never confirmed nor rolled back keeps its timer and the
      // confirmed system to go back to: this run takes both over (see the switch step).
      c.state = { toplevel, ...(c.state.unit && c.state.previous ? { unit: c.state.unit, previous: c.state.previous } : {}) };
      await saveDeployState(c.statePath, c.state);
      progress.done(toplevel);
    },
  },
  {
    id: 'copy',
    title: 'copy the closure to the host',
    skip: (c) => (c.opts.buildOn === 'remote' ? 'built on the host' : false),
    async run(c, progress) {
      progress.update(`nix copy --substitute-on-destination to ${formatTarget(c.health.target)}`);
      await nix(c, buildCopyArgv(c.health.target, c.state.toplevel!), nixEnv(c));
    },
  },
  {
    id: 'switch',
    title: 'activate behind the rollback timer',
    async run(c, progress: Task) {
      const next = c.state.toplevel!;
      c.old = await openSession(c.app, c.health.target, c.health.ssh);
      const read = await remote(c, c.old, buildReadStateScript(next));
      const facts = parseKeyLines(read.stdout);
      if (read.code !== 0 || !facts.current) throw failure('deploy-read-failed', `could not read what ${c.host} runs: ${read.stderr.trim().split('\n').pop() ?? `exit ${read.code}`}`, 'run again with --debug');
      if (facts.present !== 'yes') throw failure('deploy-not-copied', `${next} is not on ${c.host}`, 'run again from the copy step: --from copy');
      if (facts.current === next && facts.profile === next) {
        c.state = { toplevel: next, unchanged: true };
        await saveDeployState(c.statePath, c.state);
        progress.done(`${c.host} already runs it`);
        return;
      }
      if (facts.systemd_run !== 'yes') throw failure('deploy-no-systemd-run', `${c.host} has no systemd-run: the rollback timer cannot be armed`, 'deploy only to NixOS hosts (systemd)');
      // The lock-out guard ran before the build (host.ts); its override is journaled with the switch.
      const record = c.lockoutDetail ? { detail: c.lockoutDetail } : undefined;
      // A pending earlier run (killed after its switch): the host may run an unconfirmed system, so
      // the system to go back to is the confirmed one it recorded, and its timer is re-armed under
      // the same name (the arm script clears it first), so it cannot fire after this confirmation.
      const pending = c.state.unit !== undefined && c.state.previous !== undefined;
      const previous = pending ? c.state.previous! : facts.current !== next ? facts.current : facts.profile!;
      const unit = pending ? c.state.unit! : buildRollbackUnit(c.runId);
      c.state = { toplevel: next, previous, unit };
      await saveDeployState(c.statePath, c.state);
      c.armedAt = Date.now();
      progress.update(`arming ${unit} (rolls back in ${c.opts.confirmTimeout} s unless confirmed)`);
      const arm = await remote(c, c.old, buildArmScript(unit, previous, c.opts.confirmTimeout));
      if (arm.code !== 0) throw failure('deploy-arm-failed', `the rollback timer could not be armed on ${c.host}: ${arm.stderr.trim().split('\n').pop() ?? `exit ${arm.code}`}`, 'nothing was switched; see `systemd-run` on the host');
      progress.update('switch-to-configuration switch');
      let sw;
      try {
        sw = await remote(c, c.old, buildSwitchScript(next), c.opts.confirmTimeout * 1000);
      } catch (e) {
        if (c.signal.aborted) throw e;
        // The switch may well cut this very connection (networking, sshd): the check decides.
        c.app.out.debug(`switch: ${messageOf(e)}`);
        return record;
      }
      if (sw.code !== 0) {
        // Not thrown yet: the checks name what is wrong (a failed unit is why switch exits 4).
        c.switchError = `switch-to-configuration switch exited with ${sw.code ?? sw.signal}: ${sw.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`;
        c.app.out.warn(`${c.host}: ${c.switchError}`);
      }
      return record;
    },
  },
  {
    id: 'check',
    title: 'check the host over a new connection',
    async run(c, progress) {
      progress.update('health report and declared checks');
      const t: HealthTarget = { ...c.health, expectations: { ...c.health.expectations, builtToplevel: c.state.toplevel!, context: 'install' } };
      const r = await runHealthReport(c.app, t, { includeFacts: false });
      c.report = r;
      const why = c.switchError ? `${c.switchError}; ` : '';
      if (r.status === 'fail') throw failure('deploy-check-failed', `${why}${describeFailedReport(r)}`, 'fix the configuration and deploy again');
      if (c.switchError) throw failure('switch-failed', c.switchError, 'see the activation output on the host (journalctl -b)');
      progress.done(`${r.counts.ok} ok${r.counts.warn ? `, ${r.counts.warn} warn` : ''}`);
    },
  },
  {
    id: 'confirm',
    title: 'confirm and make it the boot default',
    skip: (c) => (c.state.unchanged ? 'the host already ran this system' : false),
    async run(c) {
      const s = await openSession(c.app, c.health.target, c.health.ssh);
      try {
        const r = await remote(c, s, buildConfirmScript(c.state.unit!, c.state.toplevel!), 5 * 60_000);
        if (r.code === CONFIRM_ROLLED_BACK) throw failure('deploy-timer-fired', `the host's rollback timer fired before the confirmation (--confirm-timeout ${c.opts.confirmTimeout} s)`, 'raise --confirm-timeout if the checks take that long');
        if (r.code !== 0) throw failure('deploy-confirm-failed', `making the system the boot default on ${c.host} failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`, 'see the output with --debug');
      } finally {
        s.close();
      }
    },
  },
];

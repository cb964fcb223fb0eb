/**
 * The steps of deploying one host (journaled, resumable with --resume like an install):
 * (before them, unjournaled, the lock-out guard: host.ts runDeployGuard)
 *   build    evaluate and build the toplevel here (--build-on remote: on the host)
 *   inspect  read what the host runs and boots: when it is the built system already, nothing is
 *            copied, switched, armed or confirmed (a no-change deploy is the report over this
 *            one connection)
 *   copy     the closure to the host (nix copy --substitute-on-destination), from the fleet cache
 *            when one is configured and the host trusts it (copy-route.ts); nix's ssh goes through
 *            the ssh guard: every hop's key pinned, the ssh config's route (nix-route.ts)
 *   switch   read what the host runs, arm the rollback timer on the host, switch-to-configuration switch
 *   check    a NEW pinned connection after a switch: the health report plus the host's declared checks
 *   confirm  stop the timer (after making sure it had not fired), make the system the boot default
 *            (over the check's connection: opened after the switch, so as new as the check's)
 * A failure after the timer is armed is rolled back by host.ts; these steps only throw.
 */
import type { AppContext } from '../../context.js';
import { failure, messageOf } from '../../errors.js';
import type { Task } from '../../ports/output.js';
import { runHealthReport, type HealthTarget } from '../../health/collect.js';
import type { HealthReport } from '../../health/report.js';
import { openSession, type SshSession } from '../../ssh/session.js';
import { formatTarget } from '../../ssh/target.js';
import { describeRoute, type ResolvedTarget } from '../../ssh/ssh-config.js';
import type { Step, StepContext } from '../step.js';
import type { LoadedConfig } from '../../config/load.js';
import type { SecretStore } from '../../secrets/store.js';
import { formatBytes } from '../../installer/transfer.js';
import { buildCopyArgv, buildToplevelArgv, parseToplevelJson } from './nix.js';
import type { RouteTransfer } from './nix-route.js';
import { runDeployNix as nix, runPlanCopyRoute, transferRecord } from './nix-run.js';
import type { CopyRoute } from './copy-route.js';
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
  loaded: LoadedConfig;
  /** The flake's secret store, opened when first asked (the cache's tokens). */
  store(): Promise<SecretStore>;
  host: string;
  flakeDir: string;
  health: HealthTarget;
  opts: DeployHostOptions;
  state: DeployState;
  statePath: string;
  runId: string;
  /** The connection opened before the switch: it may be what still works after it. */
  old?: SshSession;
  /** This run's inspect step read the host (on `old`) and found it running and booting the built system. */
  inspected?: boolean;
  /** The check's connection, opened after the switch: the confirmation goes over it too. */
  checked?: SshSession;
  report?: HealthReport;
  /** When the rollback timer was armed (ms): a rollback waits for it at most that long after. */
  armedAt?: number;
  /** The switch exited non-zero: the deploy fails even when every check passes. */
  switchError?: string;
  /** The copy's route and what it sent from here (for --json). */
  copy?: CopyRoute & RouteTransfer;
  /** An --allow-lockout override of the guard (host.ts, before the build): the switch step's journal detail. */
  lockoutDetail?: string;
}

const SHORT_MS = 60_000;

/** The checks that failed, named, for the message of a rollback. Pure. */
export function describeFailedReport(r: HealthReport): string {
  if (r.error) return `the host could not be checked over a new connection: ${r.error.message}`;
  const failed = r.checks.filter((c) => c.status === 'fail');
  return `check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => `${c.id} (${c.summary})`).join('; ')}`;
}

async function remote(c: DeployCtx, s: SshSession, script: string, timeoutMs = SHORT_MS) {
  return s.exec(buildRemoteCommand(c.health.target.user), { stdin: script, timeoutMs });
}

/** What the host runs and boots now, and whether `next` is on it (buildReadStateScript). */
async function readHost(c: DeployCtx, s: SshSession, next: string): Promise<Record<string, string> & { current: string }> {
  const read = await remote(c, s, buildReadStateScript(next));
  const facts = parseKeyLines(read.stdout);
  const current = facts.current;
  if (read.code !== 0 || !current) throw failure('deploy-read-failed', `could not read what ${c.host} runs: ${read.stderr.trim().split('\n').pop() ?? `exit ${read.code}`}`, 'run again with --debug');
  return { ...facts, current };
}

/** The host runs `next` and boots it by default: there is nothing to switch or confirm. Pure. */
export function isUnchanged(facts: Record<string, string>, next: string): boolean {
  return facts.current === next && facts.profile === next;
}

export const DEPLOY_STEPS: Step<DeployCtx>[] = [
  {
    id: 'build',
    title: 'build the system',
    async run(c, progress) {
      progress.update(c.opts.buildOn === 'remote' ? `evaluating here, building on ${formatTarget(c.health.target)}` : 'nix build');
      const argv = buildToplevelArgv(c.flakeDir, c.host, c.opts.buildOn === 'remote' ? c.health.target : undefined);
      const built = await nix(c, argv, c.opts.buildOn === 'remote');
      const toplevel = parseToplevelJson(built.stdout);
      // An earlier run's switch that was never confirmed nor rolled back keeps its timer and the
      // confirmed system to go back to: this run takes both over (see the switch step).
      c.state = { toplevel, ...(c.state.unit && c.state.previous ? { unit: c.state.unit, previous: c.state.previous } : {}) };
      await saveDeployState(c.statePath, c.state);
      progress.done(toplevel);
      // Built on the host: what its connections sent from here goes into the journal.
      return c.opts.buildOn === 'remote' ? { transfer: transferRecord(built.transfer) } : undefined;
    },
  },
  {
    id: 'inspect',
    title: 'read what the host runs',
    async run(c, progress) {
      const next = c.state.toplevel!;
      c.old = await openSession(c.app, c.health.target, c.health.ssh);
      const facts = await readHost(c, c.old, next);
      if (isUnchanged(facts, next)) {
        c.state = { toplevel: next, unchanged: true };
        c.inspected = true;
        await saveDeployState(c.statePath, c.state);
        progress.done(`${c.host} already runs and boots it: nothing to copy, switch or confirm`);
        return;
      }
      // A stale mark of an earlier run (--from) must not skip anything of this one.
      if (c.state.unchanged) {
        const { unchanged: _, ...rest } = c.state;
        c.state = rest;
        await saveDeployState(c.statePath, c.state);
      }
      // A copy may take long: this connection does not idle through it (the switch opens its own).
      if (c.opts.buildOn !== 'remote') {
        c.old.close();
        c.old = undefined;
      }
      progress.done(`${c.host} runs ${facts.current}`);
    },
  },
  {
    id: 'copy',
    title: 'copy the closure to the host',
    skip: (c) => (c.opts.buildOn === 'remote' ? 'built on the host' : c.inspected && c.state.unchanged ? 'the host already runs this system' : false),
    async run(c, progress) {
      progress.update('where the closure comes from');
      const route = await runPlanCopyRoute(c);
      c.app.out.info(`closure: ${route.from === 'cache' ? 'from the cache' : "what the host's own caches lack is streamed from here over ssh"}: ${route.reason}`);
      progress.update(`nix copy --substitute-on-destination to ${describeRoute(c.health.target as ResolvedTarget, formatTarget)}`);
      const { transfer } = await nix(c, buildCopyArgv(c.health.target, c.state.toplevel!), true);
      c.copy = { ...route, ...transfer };
      progress.done(`${formatBytes(transfer.sentBytes)} sent from here over ${transfer.connections} ssh connection${transfer.connections === 1 ? '' : 's'}`);
      return { transfer: transferRecord(transfer), detail: `closure ${route.from === 'cache' ? 'from the cache' : 'streamed from here'}: ${route.reason}` };
    },
  },
  {
    id: 'switch',
    title: 'activate behind the rollback timer',
    async run(c, progress: Task) {
      const next = c.state.toplevel!;
      if (c.inspected && c.state.unchanged) {
        progress.done(`${c.host} already runs it`);
        return;
      }
      // Read again after the copy (the host may have moved meanwhile), on the inspect step's
      // connection when it was kept (nothing was copied in between), else a new one.
      const old = (c.old ??= await openSession(c.app, c.health.target, c.health.ssh));
      const facts = await readHost(c, old, next);
      if (facts.present !== 'yes') throw failure('deploy-not-copied', `${next} is not on ${c.host}`, 'run again from the copy step: --from copy');
      if (isUnchanged(facts, next)) {
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
      const arm = await remote(c, old, buildArmScript(unit, previous, c.opts.confirmTimeout));
      if (arm.code !== 0) throw failure('deploy-arm-failed', `the rollback timer could not be armed on ${c.host}: ${arm.stderr.trim().split('\n').pop() ?? `exit ${arm.code}`}`, 'nothing was switched; see `systemd-run` on the host');
      progress.update('switch-to-configuration switch');
      let sw;
      try {
        sw = await remote(c, old, buildSwitchScript(next), c.opts.confirmTimeout * 1000);
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
      // Nothing was switched in this run: the connection the host was read on is as good as a new
      // one. After a switch, ALWAYS a new pinned connection: the old one may be all that still works.
      let session: SshSession | Promise<SshSession>;
      if (c.state.unchanged && c.old) session = c.old;
      else {
        const fresh = openSession(c.app, c.health.target, c.health.ssh);
        fresh.then((s) => { c.checked = s; }, () => { /* reported by runHealthReport */ });
        session = fresh;
      }
      const r = await runHealthReport(c.app, t, { includeFacts: false, session });
      c.report = r;
      const why = c.switchError ? `${c.switchError}; ` : '';
      if (r.status === 'fail') throw failure('deploy-check-failed', `${why}${describeFailedReport(r)}`, 'fix the configuration and deploy again');
      if (c.switchError) throw failure('switch-failed', c.switchError, 'see the activation output on the host (journalctl -b)');
      progress.done(`${r.counts.ok} ok${r.counts.warn ? `, ${r.counts.warn} warn` : ''}${session === c.old ? ' (nothing switched: over the connection the host was read on)' : ''}`);
    },
  },
  {
    id: 'confirm',
    title: 'confirm and make it the boot default',
    skip: (c) => (c.state.unchanged ? 'the host already ran this system' : false),
    async run(c) {
      // The check's connection (opened after the switch) when this run checked, else a new one (--resume).
      const s = c.checked ?? (c.checked = await openSession(c.app, c.health.target, c.health.ssh));
      const r = await remote(c, s, buildConfirmScript(c.state.unit!, c.state.toplevel!), 5 * 60_000);
      if (r.code === CONFIRM_ROLLED_BACK) throw failure('deploy-timer-fired', `the host's rollback timer fired before the confirmation (--confirm-timeout ${c.opts.confirmTimeout} s)`, 'raise --confirm-timeout if the checks take that long');
      if (r.code !== 0) throw failure('deploy-confirm-failed', `making the system the boot default on ${c.host} failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`, 'see the output with --debug');
    },
  },
];

/**
 * Collect one host's health report: one SSH connection with the flake's pinned host keys, one
 * exec channel running the health script (like the probe, src/probe/run-probe.ts). Never throws
 * for the host's sake: an unreachable host or a changed host key becomes a report with `error`
 * and status fail, so a fleet's table shows every host.
 */
import type { Clock } from '../context.js';
import { failure, isBootstrapError, messageOf } from '../errors.js';
import { openSession, type ExecResult, type SessionPorts, type SshOptions, type SshSession } from '../ssh/session.js';
import { formatTarget, type SshTarget } from '../ssh/target.js';
import { buildHealthChecks, needsReboot } from './checks.js';
import type { HealthExpectations } from './expect.js';
import type { HealthFacts } from './facts.js';
import { parseHealthOutput } from './parse.js';
import { countChecks, worstStatus, type HealthReport } from './report.js';
import { buildHealthCommand, buildHealthInput } from './script.js';
import { buildDeclaredScript, DECLARED_COMMAND, parseDeclaredOutput, type DeclaredCheck } from './declared.js';
import type { HealthCheck } from './report.js';

export interface HealthTarget {
  host: string;
  target: SshTarget;
  ssh: SshOptions;
  expectations: HealthExpectations;
  /** How the pin file is shown in the identity check (e.g. ".bootstrap/known_hosts"). */
  pinLabel: string;
  /** The checks the manifest's [health] declares (issue 21), run on the same connection. */
  declared?: DeclaredCheck[];
  /** Reached over the host's tailnet name or its target (shown in the report, issue 21). */
  via?: 'tailnet' | 'target';
}

export interface CollectOptions {
  /** Give up on the script after this long (default 60 s; each substituter costs at most 5 s). */
  execTimeoutMs?: number;
  /** Keep the raw facts in the report (--json). */
  includeFacts?: boolean;
  /**
   * Run over this connection (a deploy that switched nothing reuses the one it read the host on),
   * left open for the caller to close; a rejected promise is reported like a failed connect.
   * Default: a new connection, closed afterwards.
   */
  session?: SshSession | Promise<SshSession>;
}

const tail = (t: string) => t.trim().split('\n').slice(-2).join(' | ').slice(0, 200);

/** Run the script over one connection; the parsed facts and the key the host presented. Throws BootstrapErrors. */
export async function runCollectFacts(ports: SessionPorts, t: Pick<HealthTarget, 'target' | 'ssh' | 'expectations' | 'declared'>, opts: CollectOptions = {}): Promise<{ facts: HealthFacts; hostKey: string; declared: HealthCheck[] }> {
  const input = buildHealthInput(t.expectations.secrets.keyFiles);
  const declared = t.declared ?? [];
  const s = opts.session ? await opts.session : await openSession(ports, t.target, t.ssh);
  let run: { result: ExecResult; declaredOut: string; hostKey: string };
  try {
    run = {
      result: await s.exec(buildHealthCommand(t.target.user), { stdin: input, timeoutMs: opts.execTimeoutMs ?? 60_000 }),
      // The declared checks run one after another, each under its own timeout: their sum bounds them.
      declaredOut: declared.length
        ? (await s.exec(DECLARED_COMMAND, { stdin: buildDeclaredScript(declared), timeoutMs: 10_000 + declared.reduce((n, c) => n + c.timeout * 1000, 0) })).stdout
        : '',
      hostKey: s.hostKey.fingerprint,
    };
  } finally {
    if (!opts.session) s.close();
  }
  const { result, hostKey, declaredOut } = run;
  const who = formatTarget(t.target);
  if (result.code !== 0) {
    throw failure('health-failed', `the health script on ${who} ${result.code === null ? 'was stopped' : `exited with ${result.code}`}${result.stderr.trim() ? `: ${tail(result.stderr)}` : ''}`, result.code === 127 ? 'the account has no POSIX sh on PATH' : 'run again with --debug');
  }
  try {
    return { facts: parseHealthOutput(result.stdout), hostKey, declared: parseDeclaredOutput(declared, declaredOut) };
  } catch (e) {
    throw failure('health-invalid', `the health output of ${who} could not be read: ${messageOf(e).split('\n')[0]}`, 'the login shell may print to stdout or run another command (ForceCommand); run again with --debug', e);
  }
}

/** One host's report; failures to reach or read it are in `error`. */
export async function runHealthReport(ports: SessionPorts & { clock: Clock }, t: HealthTarget, opts: CollectOptions = {}): Promise<HealthReport> {
  const started = Date.now();
  const collectedAt = ports.clock.now().toISOString();
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  try {
    const { facts, hostKey, declared } = await runCollectFacts(ports, t, opts);
    const checks = [...buildHealthChecks(facts, t.expectations, { fingerprint: hostKey, pinFile: t.pinLabel }), ...declared];
    return {
      host: t.host, target: formatTarget(t.target), status: worstStatus(checks), ...(t.via ? { via: t.via } : {}), collectedAt, seconds: seconds(), hostKey,
      needsReboot: needsReboot(facts)?.needed ?? null, revision: facts.system.revision, checks,
      counts: countChecks(checks), ...(opts.includeFacts ? { facts } : {}),
    };
  } catch (e) {
    if (ports.signal.aborted) throw e;
    const error = isBootstrapError(e) ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { code: 'internal', message: messageOf(e) };
    return { host: t.host, target: formatTarget(t.target), status: 'fail', ...(t.via ? { via: t.via } : {}), collectedAt, seconds: seconds(), checks: [], counts: countChecks([]), error };
  }
}

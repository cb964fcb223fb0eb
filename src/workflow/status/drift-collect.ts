/**
 * The two halves of a host's drift (drift.ts), collected side by side with its health report: the
 * flake's current toplevel (nix eval here, no build) and the host's running system (DRIFT_SCRIPT
 * over its own pinned connection, never prompting). Neither throws for the host's sake: a flake
 * that does not evaluate or a host not reached is part of the answer.
 */
import type { AppContext } from '../../context.js';
import { messageOf } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import type { HealthTarget } from '../../health/collect.js';
import { withSession, type SessionPorts } from '../../ssh/session.js';
import { buildFlakeToplevelArgv, DRIFT_COMMAND, DRIFT_SCRIPT, parseDriftFacts, type DriftFacts } from './drift.js';

const EVAL_TIMEOUT_MS = 10 * 60_000;

/** The flake's current system of `host`, or why it has none. */
export async function runFlakeToplevel(app: Pick<AppContext, 'run' | 'signal'>, flakeDir: string, host: string): Promise<{ system: string | null; error?: string }> {
  try {
    const r = await app.run(buildFlakeToplevelArgv(flakeDir, host), { cwd: flakeDir, signal: app.signal, timeoutMs: EVAL_TIMEOUT_MS });
    const path = r.stdout.trim();
    return path.startsWith('/') ? { system: path } : { system: null, error: 'nix printed no store path' };
  } catch (e) {
    if (app.signal.aborted) throw e;
    const text = e instanceof CommandFailed ? e.result.stderr : messageOf(e);
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('warning:'));
    return { system: null, error: (lines.find((l) => l.startsWith('error:')) ?? lines.at(-1) ?? 'nix failed').slice(0, 300) };
  }
}

/** The host's running system and the rest of DriftFacts, or undefined when it was not reached. */
export async function runDriftFacts(ports: SessionPorts, t: Pick<HealthTarget, 'target' | 'ssh'>): Promise<DriftFacts | undefined> {
  try {
    const r = await withSession(ports, t.target, t.ssh, (s) => s.exec(DRIFT_COMMAND, { stdin: DRIFT_SCRIPT, timeoutMs: 30_000 }));
    if (r.code !== 0 || !r.stdout.includes('end=1')) return undefined;
    return parseDriftFacts(r.stdout);
  } catch (e) {
    if (ports.signal.aborted) throw e;
    return undefined; // the health report says why
  }
}

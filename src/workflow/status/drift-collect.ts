/**
 * The flake's half of a host's drift (drift.ts): its current toplevel, evaluated here (nix eval, no
 * build) while the host is reached. The host's half comes with its health report (one connection,
 * one exec). Never throws for the host's sake: a flake that does not evaluate is part of the answer.
 */
import type { AppContext } from '../../context.js';
import { messageOf } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import { buildFlakeToplevelArgv } from './drift.js';

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

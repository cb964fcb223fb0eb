/** An in-process AppContext slice whose output is captured, for workflow tests and leak scans. */
import { Output } from '../../src/ports/output.js';
import { runCommand } from '../../src/exec/run.js';
import { systemClock, type AppContext } from '../../src/context.js';

export function captureCtx(): Pick<AppContext, 'out' | 'run' | 'clock' | 'signal'> & { text: () => string } {
  let stdout = '';
  let stderr = '';
  const out = new Output({ write: (t) => void (stdout += t) }, { write: (t) => void (stderr += t) }, { color: false });
  return { out, run: runCommand, clock: systemClock, signal: new AbortController().signal, text: () => stdout + stderr };
}

/** Every secret value that must not appear anywhere a person or a log can see. */
export function assertNoLeak(haystack: string, secrets: string[], where: string): void {
  for (const s of secrets) {
    if (s.length >= 6 && haystack.includes(s)) throw new Error(`${where} contains a secret value (${s.slice(0, 3)}…)`);
  }
}

/**
 * One host's output in a run over many hosts (rebuild --hosts, deploy): lines on the terminal
 * prefixed with [HOST], everything also in the host's own log file (redacted).
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { Output } from '../../ports/output.js';
import type { AppContext } from '../../context.js';
import { redact } from '../../redact.js';

export function hostOutput(app: AppContext, host: string, logPath: string): { out: Output; close: () => void } {
  const fd = openSync(logPath, 'a', 0o600);
  const log = (t: string) => writeSync(fd, redact(t));
  const prefix = (t: string) => t.split(/(?<=\n)/).map((l) => (l === '\n' || l === '' ? l : `[${host}] ${l}`)).join('');
  const out = new Output(
    { write: log }, // per-host data (plans) goes to its log only
    { write: (t) => { log(t); app.out.info(prefix(t.replace(/\r\x1b\[2K/g, '')).replace(/\n$/, '')); }, isTTY: false },
    { color: false, debug: app.out.debugEnabled },
  );
  return { out, close: () => closeSync(fd) };
}

/**
 * Health reports as text: one host on one screen (a line per check, a hint under each that is not
 * ok), and the fleet table. Pure; `paint` adds colour when the caller's output wants it.
 */
import type { CheckStatus, HealthReport } from './report.js';

export type Paint = (color: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string;
const plain: Paint = (_c, t) => t;

const MARK: Record<CheckStatus, [string, Parameters<Paint>[0]]> = {
  ok: ['✔', 'green'],
  warn: ['!', 'yellow'],
  fail: ['✖', 'red'],
  'n/a': ['-', 'dim'],
};

function statusWord(r: HealthReport, paint: Paint): string {
  return r.status === 'ok' ? paint('green', 'OK') : r.status === 'warn' ? paint('yellow', 'WARN') : paint('red', 'FAIL');
}

function countsText(r: HealthReport): string {
  const c = r.counts;
  return [c.fail && `${c.fail} fail`, c.warn && `${c.warn} warn`, `${c.ok} ok`, c.na && `${c.na} n/a`].filter(Boolean).join(', ');
}

/** One host's report; `onlyProblems` leaves out the ok and n/a checks. */
export function renderHealthReport(r: HealthReport, paint: Paint = plain, opts: { onlyProblems?: boolean } = {}): string {
  const head = `${paint('bold', r.host)}  ${r.target}${r.via === 'tailnet' ? ' (over the tailnet)' : ''}  ${statusWord(r, paint)}${r.error ? '' : `  ${countsText(r)}`}  ${paint('dim', `(${r.seconds.toFixed(1)} s)`)}`;
  if (r.error) return [head, `  ${paint('red', '✖')} ${r.error.message}`, ...(r.error.hint ? [`      ${paint('dim', `→ ${r.error.hint}`)}`] : [])].join('\n');
  const lines = [head];
  for (const c of r.checks) {
    if (opts.onlyProblems && (c.status === 'ok' || c.status === 'n/a')) continue;
    const [mark, color] = MARK[c.status];
    lines.push(`  ${paint(color, mark)} ${c.group.padEnd(9)} ${c.status === 'n/a' ? paint('dim', c.summary) : c.summary}`);
    if (c.hint) lines.push(`    ${' '.repeat(10)}${paint('dim', `→ ${c.hint}`)}`);
  }
  return lines.join('\n');
}

/** The first thing wrong with a host, for the table. */
function firstProblem(r: HealthReport): string {
  if (r.error) return r.error.message;
  const c = r.checks.find((x) => x.status === 'fail') ?? r.checks.find((x) => x.status === 'warn');
  return c ? `${c.group}: ${c.summary}` : '';
}

/** The fleet summary table: one row per host. */
export function renderHealthTable(reports: readonly HealthReport[], paint: Paint = plain): string {
  const w = Math.max(4, ...reports.map((r) => r.host.length)) + 2;
  const rows = reports.map((r) => {
    const status = r.status === 'ok' ? 'ok' : r.status === 'warn' ? 'WARN' : 'FAIL';
    const col = r.status === 'ok' ? 'green' : r.status === 'warn' ? 'yellow' : 'red';
    const n = r.error ? '-' : `${r.counts.fail}/${r.counts.warn}`;
    return `${r.host.padEnd(w)}${paint(col, status.padEnd(8))}${n.padEnd(10)}${`${r.seconds.toFixed(1)}s`.padEnd(8)}${firstProblem(r)}`;
  });
  return [`${'HOST'.padEnd(w)}${'STATUS'.padEnd(8)}${'FAIL/WARN'.padEnd(10)}${'TIME'.padEnd(8)}DETAIL`, ...rows].join('\n');
}

/**
 * The checks a host's manifest declares ([health], issue 21), run on the host in one exec channel:
 * a POSIX sh script built here with every value single-quoted, each check under `timeout`, one
 * tab-separated line per check on stdout. Building and reading are pure; collect.ts runs it on the
 * health report's connection. A check that gave no line (the script was cut short) fails.
 */
import type { HealthDeclared } from '../config/sections/health.js';
import { check, type HealthCheck } from './report.js';
import { shQuote } from './script.js';

export const DECLARED_COMMAND = 'sh -s';

/** One declared check, flattened: what it is, its deadline, and how it is named. */
export interface DeclaredCheck {
  kind: 'unit' | 'url' | 'port' | 'command';
  name: string;
  timeout: number;
  /** url: expected status and body text; command: the command. */
  url?: { url: string; status: number; body?: string };
  run?: string;
  unit?: string;
  port?: number;
}

/** The manifest's [health] as a list, in a fixed order (units, ports, urls, commands). Pure. */
export function listDeclaredChecks(h: HealthDeclared | undefined): DeclaredCheck[] {
  if (!h) return [];
  return [
    ...h.units.map((unit): DeclaredCheck => ({ kind: 'unit', name: unit, unit, timeout: h.timeout })),
    ...h.ports.map((port): DeclaredCheck => ({ kind: 'port', name: `tcp/${port}`, port, timeout: h.timeout })),
    ...h.urls.map((u): DeclaredCheck => ({ kind: 'url', name: u.url, url: { url: u.url, status: u.status, ...(u.body !== undefined ? { body: u.body } : {}) }, timeout: u.timeout ?? h.timeout })),
    ...h.commands.map((c): DeclaredCheck => ({ kind: 'command', name: c.name ?? c.run, run: c.run, timeout: c.timeout ?? h.timeout })),
  ];
}

/** The script: every check in order, each printing `D<TAB>index<TAB>exit code<TAB>detail`. Pure. */
export function buildDeclaredScript(checks: readonly DeclaredCheck[]): string {
  const lines = [
    'f=$(mktemp) || exit 1; e=$(mktemp) || exit 1; trap \'rm -f "$f" "$e"\' EXIT',
    // One line per check whatever the detail holds: tabs and newlines become spaces.
    "emit() { printf 'D\\t%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$(printf '%s' \"$3\" | tr '\\t\\n' '  ' | cut -c1-200)\"; }",
  ];
  checks.forEach((c, i) => {
    const t = String(c.timeout);
    if (c.kind === 'unit') lines.push(`s=$(timeout ${t} systemctl is-active ${shQuote(c.unit!)} 2>&1); emit ${i} $? "$s"`);
    else if (c.kind === 'port') lines.push(`o=$(timeout ${t} ss -Hltn ${shQuote(`sport = :${c.port}`)} 2>"$e"); r=$?; if [ $r -eq 0 ] && [ -z "$o" ]; then r=1; fi; emit ${i} $r "$(tail -n1 "$e")"`);
    else if (c.kind === 'url') {
      const body = c.url!.body === undefined ? 'b=-' : `if grep -qF -- ${shQuote(c.url!.body)} "$f"; then b=yes; else b=no; fi`;
      lines.push(`: >"$f"; s=$(timeout ${t} curl -sS -o "$f" -w '%{http_code}' --max-time ${t} ${shQuote(c.url!.url)} 2>"$e"); r=$?; if [ $r -eq 0 ]; then ${body}; emit ${i} 0 "$s $b"; else emit ${i} $r "$(tail -n1 "$e")"; fi`);
    } else lines.push(`timeout ${t} sh -c ${shQuote(c.run!)} </dev/null >/dev/null 2>"$e"; emit ${i} $? "$(tail -n1 "$e")"`);
  });
  return lines.join('\n') + '\n';
}

const TIMED_OUT = 124;

function one(c: DeclaredCheck, line: { code: number; detail: string } | undefined): HealthCheck {
  const id = `declared.${c.kind}:${c.name}`;
  const label = c.kind === 'unit' ? `unit ${c.name}` : c.kind === 'port' ? `port ${c.name}` : c.kind === 'url' ? c.name : `command "${c.name}"`;
  if (!line) return check(id, 'declared', 'fail', `${label}: no answer (the check did not run to its end)`, 'run again with --debug');
  if (line.code === TIMED_OUT) return check(id, 'declared', 'fail', `${label}: no answer within ${c.timeout} s`, 'raise its timeout in [health], or see why it hangs on the host');
  switch (c.kind) {
    case 'unit':
      return line.code === 0
        ? check(id, 'declared', 'ok', `unit ${c.name} is active`)
        : check(id, 'declared', 'fail', `unit ${c.name} is ${line.detail || 'not active'}`, `see \`journalctl -u ${c.name}\` on the host`);
    case 'port':
      return line.code === 0
        ? check(id, 'declared', 'ok', `something listens on TCP port ${c.port}`)
        : check(id, 'declared', 'fail', `nothing listens on TCP port ${c.port}${line.detail ? ` (${line.detail})` : ''}`, 'start the service that should listen there');
    case 'url': {
      if (line.code !== 0) return check(id, 'declared', 'fail', `${c.name} could not be fetched from the host: ${line.detail || `curl exited with ${line.code}`}`, 'check that the service runs and listens there');
      const [status, body] = line.detail.split(' ');
      if (Number(status) !== c.url!.status) return check(id, 'declared', 'fail', `${c.name} answered ${status}, not ${c.url!.status}`, 'see the service log on the host');
      if (body === 'no') return check(id, 'declared', 'fail', `${c.name} answered ${status} without "${c.url!.body}" in its body`, 'see the service log on the host');
      return check(id, 'declared', 'ok', `${c.name} answered ${status}${body === 'yes' ? ' with the expected body' : ''}`);
    }
    case 'command':
      return line.code === 0
        ? check(id, 'declared', 'ok', `command "${c.name}" exited 0`)
        : check(id, 'declared', 'fail', `command "${c.name}" exited with ${line.code}${line.detail ? `: ${line.detail}` : ''}`, 'run it on the host to see why');
  }
}

/** The checks from the script's stdout; lines that are not ours are ignored. Pure. */
export function parseDeclaredOutput(checks: readonly DeclaredCheck[], stdout: string): HealthCheck[] {
  const got = new Map<number, { code: number; detail: string }>();
  for (const l of stdout.split('\n')) {
    const m = /^D\t(\d+)\t(\d+)\t(.*)$/.exec(l);
    if (m) got.set(Number(m[1]), { code: Number(m[2]), detail: m[3]!.trim() });
  }
  return checks.map((c, i) => one(c, got.get(i)));
}

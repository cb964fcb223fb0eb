/**
 * Drift in `status` (issue 21): is each host running what the flake says NOW? Not the last build
 * bootstrap made (built.json), since someone may have run nixos-rebuild by hand, an auto-upgrade
 * may have moved it, or an older generation may be booted.
 *
 * - the flake side: `nix eval --raw …config.system.build.toplevel.outPath` (evaluated, never built);
 * - the host side: what the health report's one exec already reads (src/health/script.sh, its
 *   `system` and `upgrade` sections): the running and booted systems, whether a reboot is needed
 *   (NixOS's own test: the booted kernel, initrd or kernel modules differ from the current ones),
 *   the configuration revision, when the current generation was made (its profile link's mtime),
 *   and the last auto-upgrade (nixos-upgrade.service's Result and when it last ran). No connection
 *   or exec of its own: status costs one connection per host, drift or not.
 *
 * Deriving and the classification are pure.
 */
import { NIX_FLAKES } from '../../installer/build-first.js';
import { needsReboot } from '../../health/checks.js';
import type { HealthFacts } from '../../health/facts.js';

export interface DriftFacts {
  current: string | null;
  booted: string | null;
  needsReboot: boolean | null;
  /** system.configurationRevision (the flake's rev when it sets it), else null. */
  revision: string | null;
  generationAgeSeconds: number | null;
  /** nixos-upgrade.service: null when the host has no auto-upgrade. */
  autoUpgrade: { result: string; lastRun: string | null; active: string | null } | null;
}

/** The drift half of the health report's facts. Pure. */
export function buildDriftFacts(f: HealthFacts): DriftFacts {
  const { profileEpoch, nowEpoch } = f.system;
  return {
    current: f.system.currentSystem,
    booted: f.system.bootedSystem,
    needsReboot: needsReboot(f)?.needed ?? null,
    revision: f.system.revision,
    generationAgeSeconds: profileEpoch !== null && nowEpoch !== null ? Math.max(0, nowEpoch - profileEpoch) : null,
    autoUpgrade: f.autoUpgrade ? { result: f.autoUpgrade.result ?? 'unknown', lastRun: f.autoUpgrade.lastRun, active: f.autoUpgrade.active } : null,
  };
}

/** argv: the flake's current toplevel out path of HOST, evaluated (no build). */
export function buildFlakeToplevelArgv(flakeDir: string, host: string): string[] {
  return ['nix', ...NIX_FLAKES, 'eval', '--raw', `${flakeDir}#nixosConfigurations."${host}".config.system.build.toplevel.outPath`];
}

export const DRIFT_STATES = ['up to date', 'drift', 'needs reboot', 'unhealthy', 'unreachable'] as const;
export type DriftState = (typeof DRIFT_STATES)[number];

export interface HostDrift {
  state: DriftState;
  /** What the flake evaluates to now, or null when it did not evaluate (flakeError says why). */
  flakeSystem: string | null;
  flakeError?: string;
  runningSystem: string | null;
  bootedSystem: string | null;
  needsReboot: boolean | null;
  revision: string | null;
  generationAgeSeconds: number | null;
  autoUpgrade: DriftFacts['autoUpgrade'];
}

/** What the health report adds, by name, when it has it (another part of issue 21 fills them). */
export interface ReportExtras {
  status: 'ok' | 'warn' | 'fail';
  error?: { code: string } | undefined;
  needsReboot?: unknown;
  revision?: unknown;
}

/** Report errors of a host that was reached (collect.ts): its script failed or printed garbage. */
const REPORT_UNREADABLE = ['health-failed', 'health-invalid'];

/**
 * One host's drift state. Pure. Order: a host not reached is unreachable; one whose report fails
 * is unhealthy; then running ≠ flake is drift; then a reboot pending; else up to date.
 */
export function classifyDrift(report: ReportExtras, facts: DriftFacts | undefined, flake: { system: string | null; error?: string }): HostDrift {
  const needsReboot = typeof report.needsReboot === 'boolean' ? report.needsReboot : (facts?.needsReboot ?? null);
  const revision = typeof report.revision === 'string' && report.revision ? report.revision : (facts?.revision ?? null);
  const base = {
    flakeSystem: flake.system,
    ...(flake.error ? { flakeError: flake.error } : {}),
    runningSystem: facts?.current ?? null,
    bootedSystem: facts?.booted ?? null,
    needsReboot,
    revision,
    generationAgeSeconds: facts?.generationAgeSeconds ?? null,
    autoUpgrade: facts?.autoUpgrade ?? null,
  };
  // Reached, but its report could not be read (the health script failed): unhealthy, not unreachable.
  if (!facts) return { state: report.error && REPORT_UNREADABLE.includes(report.error.code) ? 'unhealthy' : 'unreachable', ...base };
  if (report.error !== undefined && report.status === 'fail' && facts.current === null) return { state: 'unreachable', ...base };
  if (report.status === 'fail') return { state: 'unhealthy', ...base };
  if (flake.system !== null && facts.current !== null && flake.system !== facts.current) return { state: 'drift', ...base };
  if (needsReboot) return { state: 'needs reboot', ...base };
  return { state: 'up to date', ...base };
}

/** "3 d", "5 h", "12 min". Pure. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)} d`;
  if (seconds >= 3_600) return `${Math.floor(seconds / 3_600)} h`;
  return `${Math.floor(seconds / 60)} min`;
}

const short = (p: string | null) => (p ? (p.split('/').pop() ?? p).slice(0, 32) : '-');

/** The fleet's drift table, one row a host. Pure. */
export function renderDriftTable(rows: ReadonlyArray<{ host: string; drift: HostDrift }>): string {
  const head = ['HOST', 'STATE', 'RUNNING', 'FLAKE', 'REVISION', 'AGE', 'AUTO-UPGRADE'];
  const body = rows.map(({ host, drift: d }) => [
    host,
    d.state,
    short(d.runningSystem),
    d.flakeSystem === null ? (d.flakeError ? 'does not evaluate' : '-') : d.flakeSystem === d.runningSystem ? 'same' : short(d.flakeSystem),
    d.revision ? d.revision.slice(0, 12) : '-',
    formatAge(d.generationAgeSeconds),
    d.autoUpgrade ? `${d.autoUpgrade.result}${d.autoUpgrade.lastRun ? ` (${d.autoUpgrade.lastRun})` : ''}` : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [head, ...body].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** One host's drift in a sentence or two, below its report. Pure. */
export function describeDrift(host: string, d: HostDrift): string[] {
  const lines: string[] = [];
  if (d.state === 'drift') lines.push(`drift: ${host} runs ${d.runningSystem}, the flake now evaluates to ${d.flakeSystem} (deploy it, or find who switched by hand)`);
  else if (d.state === 'up to date') lines.push(`${host} runs what the flake evaluates to now`);
  if (d.flakeError) lines.push(`the flake's ${host} does not evaluate: ${d.flakeError}`);
  if (d.needsReboot) lines.push(`${host} needs a reboot: the booted kernel or initrd is not the current system's`);
  if (d.revision) lines.push(`revision ${d.revision}`);
  if (d.generationAgeSeconds !== null) lines.push(`current generation made ${formatAge(d.generationAgeSeconds)} ago`);
  if (d.autoUpgrade) lines.push(`last auto-upgrade: ${d.autoUpgrade.result}${d.autoUpgrade.lastRun ? ` at ${d.autoUpgrade.lastRun}` : ''}`);
  return lines;
}

import { BootstrapError, usageError } from '../errors.js';

/**
 * nixos-anywhere's phases, in the order one call runs them, declared once: the id (given to
 * --phases, --from and --phase-timeout, and recorded in the manifest's [install] phaseTimeouts),
 * the title the install shows for it (its journaled step, the dry run's step list) and its
 * default time limit (also quoted in --phase-timeout's help).
 */

export const PHASE_TABLE = [
  { id: 'kexec', title: 'boot the NixOS installer (kexec)', defaultTimeoutMs: 15 * 60_000 }, // login, the kexec image download, the installer's boot
  { id: 'disko', title: 'partition and format the disk (disko)', defaultTimeoutMs: 20 * 60_000 },
  { id: 'install', title: 'install NixOS', defaultTimeoutMs: 90 * 60_000 }, // the closure upload over a slow link
  { id: 'reboot', title: 'reboot into the installed system', defaultTimeoutMs: 10 * 60_000 },
] as const;

export type Phase = (typeof PHASE_TABLE)[number]['id'];
/** Non-empty, so z.enum takes it (the manifest's phaseTimeouts keys). */
export const PHASES = PHASE_TABLE.map((p) => p.id) as readonly Phase[] as readonly [Phase, ...Phase[]];

export const DEFAULT_PHASE_TIMEOUTS_MS = Object.fromEntries(PHASE_TABLE.map((p) => [p.id, p.defaultTimeoutMs])) as Record<Phase, number>;

export function phaseTitle(phase: Phase): string {
  return PHASE_TABLE.find((p) => p.id === phase)!.title;
}

/** `--phase-timeout`'s help: the defaults as `kexec=15m disko=20m …`. */
export function describeDefaultTimeouts(): string {
  return PHASE_TABLE.map((p) => `${p.id}=${Math.round(p.defaultTimeoutMs / 60_000)}m`).join(' ');
}

/** `kexec=20m`, `install=2h`, `disko=900` (seconds) → milliseconds per phase. */
export function parsePhaseTimeouts(entries: Record<string, string | number>): Partial<Record<Phase, number>> {
  const out: Partial<Record<Phase, number>> = {};
  for (const [phase, raw] of Object.entries(entries)) {
    if (!(PHASES as readonly string[]).includes(phase)) {
      throw new BootstrapError('usage', 'bad-phase-timeout', `no install phase "${phase}" to time`, { hint: `use one of ${PHASES.join(', ')}, e.g. --phase-timeout install=2h` });
    }
    out[phase as Phase] = parseDuration(String(raw), phase);
  }
  return out;
}

function parseDuration(raw: string, phase: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|min|h)?$/.exec(raw.trim());
  const n = m ? Number(m[1]) * ({ s: 1, m: 60, min: 60, h: 3600 }[m[2] ?? 's'] ?? 1) : NaN;
  if (!(n >= 1 && n <= 48 * 3600)) {
    throw new BootstrapError('usage', 'bad-phase-timeout', `the timeout of phase ${phase} must be a duration from 1s to 48h, got "${raw}"`, { hint: 'e.g. --phase-timeout install=90m or kexec=900 (seconds)' });
  }
  return Math.round(n * 1000);
}

/** `--phase-timeout install=2h` (repeatable) → { install: "2h" }; values are checked by parsePhaseTimeouts. */
export function parsePhaseTimeoutFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null); // "__proto__=10m" stays a key, and is refused
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw usageError('bad-flag', `--phase-timeout takes PHASE=DURATION, got "${v}"`, 'e.g. --phase-timeout install=2h --phase-timeout kexec=20m');
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/**
 * What deploy runs on the host, as sh scripts sent on stdin (`sh -s`, `sudo sh -s` for a login
 * user other than root): every store path and unit name is quoted, and each is built here, pure.
 *
 * The dead-man switch: before `switch-to-configuration switch`, a transient systemd timer is armed
 * on the host (systemd-run --on-active) whose service re-activates the previous generation and
 * restarts sshd. Only a confirmation over a NEW connection stops it; if bootstrap dies or loses
 * the link, the host rolls itself back. The new generation becomes the boot default (the system
 * profile and the boot loader) only after the confirmation.
 */
import { shQuote } from '../../health/script.js';

export const SYSTEM_PROFILE = '/nix/var/nix/profiles/system';
/** Exit code of the confirm script when the timer already rolled the host back. */
export const CONFIRM_ROLLED_BACK = 3;

/** Store paths as nix prints them; anything else never reaches a script. */
export const STORE_PATH_RE = /^\/[A-Za-z0-9+._/-]+$/;
const UNIT_RE = /^bootstrap-rollback-[a-z0-9-]+$/;

function checked(path: string): string {
  if (!STORE_PATH_RE.test(path)) throw new Error(`not a store path: ${JSON.stringify(path)}`);
  return shQuote(path);
}

export function buildRemoteCommand(user: string): string {
  return user === 'root' ? 'sh -s' : 'sudo -n sh -s';
}

/** The rollback unit's name for a run (runIds are ISO stamps with a random tail). Pure. */
export function buildRollbackUnit(runId: string): string {
  const tail = runId.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(-24);
  return `bootstrap-rollback-${tail}`;
}

/** What the host runs now, and whether the new system is already there. Pure. */
export function buildReadStateScript(next: string): string {
  return [
    `printf 'current=%s\\n' "$(readlink -f /run/current-system)"`,
    `printf 'profile=%s\\n' "$(readlink -f ${SYSTEM_PROFILE})"`,
    `if [ -e ${checked(next)} ]; then echo present=yes; else echo present=no; fi`,
    `if command -v systemd-run >/dev/null 2>&1; then echo systemd_run=yes; else echo systemd_run=no; fi`,
  ].join('\n') + '\n';
}

/** The host's interfaces, for the lock-out guard before the build (guard.ts). Pure. */
export function buildNicsScript(): string {
  return `printf 'nics=%s\\n' "$(ls /sys/class/net 2>/dev/null | tr '\\n' ' ')"\n`;
}

export function parseKeyLines(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of stdout.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return out;
}

/** The command the timer's service runs: the previous generation again, and sshd restarted. Pure. */
export function buildRollbackCommand(previous: string): string {
  return `${checked(previous)}/bin/switch-to-configuration switch; systemctl restart sshd.service`;
}

/** Arm the dead-man switch: a transient timer that rolls back after `seconds`. Pure. */
export function buildArmScript(unit: string, previous: string, seconds: number): string {
  if (!UNIT_RE.test(unit)) throw new Error(`bad unit name ${unit}`);
  return [
    'set -e',
    // A leftover unit of the same name (an earlier run killed at this very point) is cleared first.
    `systemctl stop ${shQuote(`${unit}.timer`)} ${shQuote(`${unit}.service`)} >/dev/null 2>&1 || true`,
    `systemctl reset-failed ${shQuote(`${unit}.service`)} >/dev/null 2>&1 || true`,
    `systemd-run --unit=${shQuote(unit)} --description=${shQuote('bootstrap deploy: roll back unless confirmed')} --on-active=${Math.round(seconds)}s --timer-property=AccuracySec=1s /bin/sh -c ${shQuote(buildRollbackCommand(previous))}`,
    `echo armed`,
  ].join('\n') + '\n';
}

export function buildSwitchScript(next: string): string {
  return `exec ${checked(next)}/bin/switch-to-configuration switch\n`;
}

/**
 * Confirm: stop the timer, then make sure it had not fired (the host still runs `next`, the
 * rollback service is not running), and only then make `next` the boot default. Pure.
 */
export function buildConfirmScript(unit: string, next: string): string {
  return [
    `systemctl stop ${shQuote(`${unit}.timer`)} >/dev/null 2>&1 || true`,
    `if systemctl is-active --quiet ${shQuote(`${unit}.service`)}; then echo rollback=running; exit ${CONFIRM_ROLLED_BACK}; fi`,
    'cur=$(readlink -f /run/current-system)',
    `if [ "$cur" != ${checked(next)} ]; then printf 'current=%s\\n' "$cur"; exit ${CONFIRM_ROLLED_BACK}; fi`,
    'set -e',
    `nix-env --profile ${SYSTEM_PROFILE} --set ${checked(next)}`,
    `${checked(next)}/bin/switch-to-configuration boot`,
    'echo confirmed',
  ].join('\n') + '\n';
}

/** Roll back now (bootstrap saw a failure): the timer is stopped, the previous system activated. Pure. */
export function buildRollbackNowScript(unit: string, previous: string): string {
  return [
    `systemctl stop ${shQuote(`${unit}.timer`)} >/dev/null 2>&1 || true`,
    // If the timer's own rollback is running, let it finish instead of racing it.
    `while systemctl is-active --quiet ${shQuote(`${unit}.service`)}; do sleep 1; done`,
    `if [ "$(readlink -f /run/current-system)" != ${checked(previous)} ]; then ${buildRollbackCommand(previous)}; fi`,
    `printf 'current=%s\\n' "$(readlink -f /run/current-system)"`,
  ].join('\n') + '\n';
}

export function buildCurrentScript(): string {
  return `printf 'current=%s\\n' "$(readlink -f /run/current-system)"\n`;
}

/** What would be restarted: switch-to-configuration dry-activate of the new system. Pure. */
export function buildDryActivateScript(next: string): string {
  return `${checked(next)}/bin/switch-to-configuration dry-activate 2>&1\n`;
}

/** The units of dry-activate's output ("would restart the following units: a, b"). Pure. */
export function parseDryActivate(text: string): { restart: string[]; start: string[]; stop: string[]; reload: string[] } {
  const pick = (verb: string) => {
    const m = new RegExp(`would ${verb} the following units: (.*)`).exec(text);
    return m ? m[1]!.split(',').map((u) => u.trim()).filter(Boolean) : [];
  };
  return { restart: pick('restart'), start: pick('start'), stop: pick('stop'), reload: pick('reload') };
}

/**
 * The health script and the remote command that runs it: like the probe (src/probe/script.ts), the
 * whole report costs ONE exec channel running `sh -s` with the script on stdin. The text lives in
 * script.sh beside this module (scripts/build.mjs copies *.sh into dist/).
 */
import { readFileSync } from 'node:fs';
import { codeAsset } from '../package-files.js';

export const HEALTH_COMMAND = 'sh -s';

/**
 * The command for a login other than root (issue 18): the script as root through `sudo -n` when the
 * user may (never a password prompt: -n fails instead), else as the user, whose report then marks
 * what it could not read. The test run reads no stdin, so the script still arrives whole.
 */
export const HEALTH_COMMAND_SUDO = 'sudo -n sh -c : 2>/dev/null && exec sudo -n sh -s || exec sh -s';

/** The remote command for a login as `user`. Pure. */
export function buildHealthCommand(user: string): string {
  return user === 'root' ? HEALTH_COMMAND : HEALTH_COMMAND_SUDO;
}

let cached: string | undefined;

/** The health script text, read once from script.sh next to this module. */
export function loadHealthScript(): string {
  cached ??= readFileSync(codeAsset('health/script.sh'), 'utf8');
  return cached;
}

/** Single-quote a value for sh. Pure. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * What is sent on stdin: the parameters as one assignment line, then the script. The key files are
 * absolute paths from the flake's own config (validated there); quoting keeps them data anyway.
 */
export function buildHealthInput(keyFiles: readonly string[]): string {
  const clean = keyFiles.filter((p) => p.startsWith('/') && !p.includes('\n'));
  return `NB_KEY_FILES=${shQuote(clean.join('\n'))}\n` + loadHealthScript();
}

/**
 * The health script and the remote command that runs it: like the probe (src/probe/script.ts), the
 * whole report costs ONE exec channel running `sh -s` with the script on stdin. The text lives in
 * script.sh beside this module (scripts/build.mjs copies *.sh into dist/).
 */
import { readFileSync } from 'node:fs';
import { codeAsset } from '../package-files.js';

export const HEALTH_COMMAND = 'sh -s';

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

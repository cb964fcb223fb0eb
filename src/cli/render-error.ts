/**
 * The one place errors become text. Expected errors print one line plus a hint; unexpected ones
 * print one line and point at --debug. Stacks only with --debug.
 */
import { isBootstrapError, messageOf } from '../errors.js';
import { escapeControls } from '../probe/sanitize.js';
import { redact } from '../redact.js';
import type { Output } from '../ports/output.js';

export function renderError(out: Output, e: unknown, debug: boolean): void {
  // A message may echo user input (a target, a file's value): control characters in it are shown
  // escaped, so the error is always one line and cannot move the cursor or recolour the terminal.
  if (isBootstrapError(e)) {
    out.error(escapeControls(e.message));
    if (e.hint) out.info(`  ${out.paint('dim', 'hint:')} ${escapeControls(e.hint)}`);
  } else {
    out.error(`internal error: ${escapeControls(messageOf(e).split('\n')[0]!)}`);
    if (!debug) out.info(`  ${out.paint('dim', 'hint:')} run again with --debug for details, and report it`);
  }
  if (debug && e instanceof Error) {
    out.info(e.stack ?? '');
    let cause = e.cause;
    while (cause instanceof Error) {
      out.info(`caused by: ${cause.stack ?? cause.message}`);
      cause = cause.cause;
    }
  }
}

/** Exit code for a thrown value: 2 for bad input, 130 for an interrupt, 1 otherwise. */
export function exitCodeFor(e: unknown): number {
  if (isBootstrapError(e)) {
    if (e.code === 'interrupted') return 130;
    return e.kind === 'usage' ? 2 : 1;
  }
  return 1;
}

/**
 * The error document `--json` prints on stdout: `{"ok": false, "error": {code, message, hint}}`.
 * `code` is the BootstrapError's stable code ("internal" for a bug), `hint` is null when there is
 * none. Every string is redacted before it is serialized, so a secret is masked even where JSON
 * escaping would change its bytes (a quote or backslash in it). Pure apart from the redactor.
 */
export interface ErrorJson {
  ok: false;
  error: { code: string; message: string; hint: string | null };
}

export function buildErrorJson(e: unknown): ErrorJson {
  if (isBootstrapError(e)) return { ok: false, error: { code: e.code, message: redact(e.message), hint: e.hint === undefined ? null : redact(e.hint) } };
  return {
    ok: false,
    error: { code: 'internal', message: redact(`internal error: ${messageOf(e).split('\n')[0]!}`), hint: 'run again with --debug for details, and report it' },
  };
}

/**
 * Under `--json` an error is data too: the document on stdout for the script, and on stderr the
 * same text as without --json (message, hint, and the stack with --debug) for the person
 * watching. The exit code does not change.
 */
export function renderErrorJson(out: Output, e: unknown, debug: boolean): void {
  out.json(buildErrorJson(e));
  renderError(out, e, debug);
}

/**
 * Did the caller ask for JSON? Once the command's flags parsed, its `--json` decides; when parsing
 * itself failed (or no command matched) a `--json` among the arguments before `--` does, so a
 * script still gets an error document for a typo in a flag or a command name.
 */
export function wantsJson(argv: readonly string[], parsed?: boolean): boolean {
  if (parsed !== undefined) return parsed;
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * The one place errors become text. Expected errors print one line plus a hint; unexpected ones
 * print one line and point at --debug. Stacks only with --debug.
 */
import { isBootstrapError, messageOf } from '../errors.js';
import { escapeControls } from '../probe/sanitize.js';
import type { Output } from './ui.js';

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

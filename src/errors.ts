/**
 * Typed errors. Every expected failure is a BootstrapError with a stable `code`, a one-line
 * message and a hint that says what to do. Only src/main.ts turns them into exit codes:
 * `usage` (bad input, exit 2) and `failure` (the world said no, exit 1).
 */
export type ErrorKind = 'usage' | 'failure';

export interface ErrorDetails {
  hint?: string;
  cause?: unknown;
}

export class BootstrapError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BootstrapError';
    this.kind = kind;
    this.code = code;
    this.hint = details.hint;
  }
}

/** Bad input from the user: a flag, a file, a target string. Exit code 2. */
export function usageError(code: string, message: string, hint?: string, cause?: unknown): BootstrapError {
  return new BootstrapError('usage', code, message, { hint, cause });
}

/** Something outside failed: a host, a tool, a store. Exit code 1. */
export function failure(code: string, message: string, hint?: string, cause?: unknown): BootstrapError {
  return new BootstrapError('failure', code, message, { hint, cause });
}

export function isBootstrapError(e: unknown): e is BootstrapError {
  return e instanceof BootstrapError;
}

/**
 * A user's value as an error message shows it: JSON-quoted, so a newline or an escape sequence
 * in it is visible and the error stays one line; a long value is cut.
 */
export function quote(value: string, max = 80): string {
  // JSON escapes C0 controls but not DEL or the C1 range (U+0080–U+009F: U+009B is a CSI to
  // terminals that honour 8-bit controls): those are escaped too.
  return JSON.stringify(value.length > max ? `${value.slice(0, max - 10)}…` : value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The message of anything thrown, without a stack. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

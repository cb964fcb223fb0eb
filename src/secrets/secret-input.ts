/**
 * Secret values come in through a file or stdin, never argv: argv lands in shell history, in
 * `ps` and in /proc/PID/cmdline for every local user to read (issue 11). A flag that names a file
 * is checked for being the secret itself, which is refused without echoing it.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { isBootstrapError, usageError } from '../errors.js';
import { registerSecret } from '../redact.js';

/** More than any key or credential; a bigger "key file" is the wrong file. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** All of a stream (stdin), as UTF-8, refusing more than MAX_SECRET_BYTES. */
export async function readAllInput(stream: Readable, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_SECRET_BYTES) throw usageError('input-too-large', `${what} on stdin is larger than ${MAX_SECRET_BYTES / 1024} KiB`, 'pass the key or value itself, not an archive or a directory listing');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Does a flag's value look like a secret rather than a path? (Multi-line, PEM armour, an age identity.) */
export function looksLikeSecretValue(value: string): boolean {
  return /[\n\r]/.test(value) || /PRIVATE KEY|AGE-SECRET-KEY-1/i.test(value) || value.length > 4096;
}

export interface SecretSource {
  text: string;
  /** For messages: the file path, or "stdin". Never the content. */
  source: string;
}

/**
 * Read a `--flag FILE` secret: FILE, or `-` for stdin. The content is registered with the
 * redactor before anything else sees it. Usage errors (exit 2) for key material in argv, a missing
 * or unreadable file, an empty or oversized one.
 */
export async function readSecretFileFlag(flag: string, value: string, stdin: () => Promise<string>): Promise<SecretSource> {
  if (looksLikeSecretValue(value)) {
    registerSecret(value);
    throw usageError('secret-in-argv', `--${flag} takes a file path or "-" (stdin), not the key itself`, 'key material in arguments lands in shell history and `ps`; write it to a 0600 file or pipe it in with `-`');
  }
  let text: string;
  let source: string;
  if (value === '-') {
    text = await stdin();
    source = 'stdin';
  } else {
    source = value;
    try {
      const buf = await readFile(value);
      if (buf.length > MAX_SECRET_BYTES) throw usageError('input-too-large', `--${flag} ${value} is larger than ${MAX_SECRET_BYTES / 1024} KiB, not a key file`);
      text = buf.toString('utf8');
    } catch (e) {
      if (isBootstrapError(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw usageError('unreadable-key-file', `--${flag}: cannot read ${value} (${code})`, 'pass the path of the private key file, or "-" to read it from stdin');
    }
  }
  registerSecret(text);
  if (text.trim() === '') throw usageError('empty-key-file', `--${flag}: ${source} is empty`);
  return { text, source };
}

/** A stdin reader that reads at most once: two flags asking for `-` is a usage error. */
export function stdinOnce(read: () => Promise<string>): () => Promise<string> {
  let used = false;
  return async () => {
    if (used) throw usageError('stdin-twice', 'only one flag can read from stdin ("-")', 'pass the other key as a file path');
    used = true;
    return read();
  };
}

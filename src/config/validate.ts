/**
 * zod issues → one line that names the file, the key path and what is allowed. Shared by
 * bootstrap.toml, host manifests, profiles and answers files.
 */
import type { z } from 'zod';
import { usageError, type BootstrapError } from '../errors.js';

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  return `${path || '(top level)'}: ${issue.message}`;
}

export function validationError(file: string, error: z.ZodError, hint?: string): BootstrapError {
  const first = error.issues[0];
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return usageError('invalid-file', `${file}: ${first ? describeIssue(first) : 'invalid'}${more}`, hint ?? `fix ${file} and run again`);
}

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string, hint?: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(file, r.error, hint);
  return r.data;
}

/**
 * A path in bootstrap.toml that names a place inside the flake (hostsDir, stateDir, the local
 * vault's dir): relative, and never leaving the flake, so no command writes outside it because of
 * a config value. Checked when the config is read, before anything is written.
 */
import { posix } from 'node:path';
import { z } from 'zod';

export function isInsideFlake(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.startsWith('~') || p.includes('\\') || p.includes('\0')) return false;
  const n = posix.normalize(p);
  return n !== '.' && n !== '..' && !n.startsWith('../');
}

export function flakePath(fallback: string, what: string) {
  return z
    .string()
    .refine(isInsideFlake, { message: `must be a relative path inside the flake (no "/" at the start, no ".." out of it), e.g. "${fallback}"` })
    .default(fallback)
    .describe(what);
}

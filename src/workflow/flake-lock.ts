/**
 * A lock for files several hosts share (.sops.yaml, secrets.nix): a fleet run registers many
 * hosts at once, and two `bootstrap` processes may too. Without it, two read-modify-writes race and
 * one host's recipient (or pinned key) is lost. In process: a queue per flake; across processes: an O_EXCL lock
 * file, retried for a bounded time, taken over when its owner is dead.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { statePaths } from '../config/state-paths.js';
import { failure } from '../errors.js';
import { isProcessAlive } from '../exec/process-info.js';

const queues = new Map<string, Promise<unknown>>();

async function acquireFile(path: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(await readFile(path, 'utf8').catch(() => ''));
    if (owner > 0 && !isProcessAlive(owner)) {
      await rm(path, { force: true }); // its owner died holding it
      continue;
    }
    if (Date.now() > deadline) throw failure('flake-locked', `another bootstrap run (pid ${owner || '?'}) is editing shared flake files`, `wait for it to finish, or remove ${path} if no run is active`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run `fn` while holding the flake's shared-files lock. */
export function withFlakeLock<T>(flakeDir: string, stateDir: string, fn: () => Promise<T>, waitMs = 60_000): Promise<T> {
  return withFileLock(statePaths(flakeDir, stateDir).flakeLock, fn, waitMs);
}

/**
 * Run `fn` under the flake lock, except in a dry run: it writes nothing, so it takes no lock and
 * creates no lock file (nor the state directory it lives in).
 */
export function withFlakeLockUnlessDryRun<T>(dryRun: boolean, flakeDir: string, stateDir: string, fn: () => Promise<T>): Promise<T> {
  return dryRun ? fn() : withFlakeLock(flakeDir, stateDir, fn);
}

/** Run `fn` while holding the lock file `path` (its directory is created 0700). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, waitMs = 60_000): Promise<T> {
  const dir = dirname(path);
  const prev = queues.get(path) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await acquireFile(path, waitMs);
    try {
      return await fn();
    } finally {
      await rm(path, { force: true });
    }
  });
  queues.set(path, run);
  try {
    return await run;
  } finally {
    if (queues.get(path) === run) queues.delete(path);
  }
}

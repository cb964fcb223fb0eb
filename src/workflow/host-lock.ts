/**
 * One run per host: <flake>/.bootstrap/state/HOST/lock, created with O_EXCL and holding the pid and
 * start time of its owner. A lock whose pid is dead (a crash, kill -9) is taken over with a warning;
 * a live one stops the second run with 'host-locked' naming the pid.
 */
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { failure } from '../errors.js';

export interface LockInfo {
  pid: number;
  startedAt: string;
  hostname?: string;
}

export interface HostLock {
  path: string;
  info: LockInfo;
  release(): Promise<void>;
}

export interface LockPorts {
  /** Is a process with this pid alive? Injected so tests can fake a dead owner. */
  isAlive?: (pid: number) => boolean;
  warn?: (text: string) => void;
  now?: () => Date;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else — alive all the same.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseLockInfo(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as LockInfo;
    return Number.isInteger(v.pid) && v.pid > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

async function tryCreate(path: string, info: LockInfo): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600); // O_CREAT|O_EXCL: exactly one creator wins
    try {
      await fh.writeFile(JSON.stringify(info) + '\n');
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

async function readLock(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Move a stale lock aside, but only if it is still the stale one we read: two runs that both saw
 * the dead owner must not remove each other's fresh lock. The loser puts a fresh lock back.
 */
async function removeStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = await readLock(aside);
  if (moved !== staleText) {
    await link(aside, path).catch(() => undefined); // someone else's fresh lock: restore it
  }
  await unlink(aside).catch(() => undefined);
}

/**
 * Take the host lock. Throws failure 'host-locked' when another live run holds it.
 * @param what the host name, for messages
 */
export async function acquireHostLock(path: string, what: string, ports: LockPorts = {}): Promise<HostLock> {
  const alive = ports.isAlive ?? isProcessAlive;
  const now = ports.now ?? (() => new Date());
  const info: LockInfo = { pid: process.pid, startedAt: now().toISOString(), hostname: hostname() };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });

  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(path, info)) {
      let released = false;
      return {
        path,
        info,
        release: async () => {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      };
    }
    const text = await readLock(path);
    if (text === undefined) continue; // released between our tries
    const owner = parseLockInfo(text);
    const sameMachine = !owner?.hostname || owner.hostname === info.hostname;
    if (owner && (!sameMachine || alive(owner.pid))) {
      const where = sameMachine ? '' : ` on ${owner.hostname}`;
      throw failure(
        'host-locked',
        `another bootstrap run for ${what} is in progress (pid ${owner.pid}${where}, started ${owner.startedAt})`,
        `wait for it to finish; if that process is gone, remove ${path}`,
      );
    }
    if (!owner) {
      // Unreadable content: a creator may be between open() and write(); give it a moment once.
      if (attempt === 0) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
    }
    ports.warn?.(`taking over the lock of ${what} from pid ${owner?.pid ?? 'unknown'}, which is no longer running (${path})`);
    await removeStale(path, text);
  }
  throw failure('host-locked', `could not take the lock of ${what} at ${path}`, `another run may be starting; try again, or remove ${path}`);
}

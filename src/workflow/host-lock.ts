/**
 * One run per host: <flake>/.bootstrap/state/HOST/lock, created with O_EXCL and holding the pid,
 * the pid's start time (so a recycled pid is not mistaken for the owner) and, once they exist, the
 * installer's process group and the run's secret directory.
 *
 * A live owner stops the second run with 'host-locked' naming the pid. A dead one (a crash, kill -9,
 * the OOM killer) is taken over with a warning, after its leftovers are dealt with: its installer,
 * which outlives it in its own process group, is stopped (it is ours, and two installers must never
 * run against one machine), and its secret directory is wiped.
 */
import { link, mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { failure } from '../errors.js';
import { defaultProcessPorts, isSameProcessAlive, readProcessStart, type ProcessPorts } from '../exec/process-info.js';
import { describeAge, wipeSecretDir } from '../installer/secret-dir.js';


export interface LockInfo {
  pid: number;
  /** The owner's start time (/proc), to tell it from a later process given the same pid. */
  pidStart?: string;
  startedAt: string;
  hostname?: string;
  /** The installer's process group (nixos-anywhere runs detached): it outlives a killed owner. */
  installer?: { pgid: number; start?: string };
  /** The run's secret directory, wiped when a later run takes the lock over. */
  secretDir?: string;
}

export interface HostLock {
  path: string;
  info: LockInfo;
  /** Record more about the run (installer group, secret directory) in the lock file. */
  update(patch: Partial<Pick<LockInfo, 'installer' | 'secretDir'>>): Promise<void>;
  release(): Promise<void>;
}

export interface LockPorts {
  /** Is a process with this pid alive? Injected so tests can fake a dead owner. */
  isAlive?: (pid: number) => boolean;
  /** Process table access for the owner's identity and its installer's group. */
  processes?: Partial<ProcessPorts>;
  warn?: (text: string) => void;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** How long a left-over installer gets after SIGTERM, and again after SIGKILL. */
  stopGraceMs?: number;
}

export function parseLockInfo(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as LockInfo;
    if (!Number.isInteger(v.pid) || v.pid <= 0) return undefined;
    if (v.installer && !(Number.isInteger(v.installer.pgid) && v.installer.pgid > 1)) delete v.installer;
    if (typeof v.secretDir !== 'string' || !/\/nb-install-[^/]+$/.test(v.secretDir)) delete v.secretDir;
    return v;
  } catch {
    return undefined;
  }
}

/** Write the lock's new content beside it and rename it in: readers never see half a lock. */
async function rewrite(path: string, info: LockInfo): Promise<void> {
  const tmp = `${path}.new-${process.pid}`;
  await writeFile(tmp, JSON.stringify(info) + '\n', { mode: 0o600 });
  await rename(tmp, path);
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
  const procs: ProcessPorts = { ...defaultProcessPorts, ...(ports.isAlive ? { isAlive: ports.isAlive } : {}), ...ports.processes };
  const now = ports.now ?? (() => new Date());
  const pidStart = readProcessStart(process.pid);
  const info: LockInfo = { pid: process.pid, ...(pidStart ? { pidStart } : {}), startedAt: now().toISOString(), hostname: hostname() };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });

  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(path, info)) {
      let released = false;
      return {
        path,
        info,
        update: async (patch) => {
          if (released) return;
          Object.assign(info, patch);
          await rewrite(path, info);
        },
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
    if (owner && (!sameMachine || isSameProcessAlive(owner.pid, owner.pidStart, procs))) {
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
    if (owner) await cleanUpAfter(owner, what, procs, ports);
    await removeStale(path, text);
  }
  throw failure('host-locked', `could not take the lock of ${what} at ${path}`, `another run may be starting; try again, or remove ${path}`);
}

/** The installer group is the dead run's if it still runs and its leader, when alive, is the recorded one. */
function leftInstaller(owner: LockInfo, procs: ProcessPorts): number | undefined {
  const inst = owner.installer;
  if (!inst || !procs.isGroupAlive(inst.pgid)) return undefined;
  if (procs.isAlive(inst.pgid) && inst.start !== undefined) {
    const start = procs.startOf(inst.pgid);
    if (start !== undefined && start !== inst.start) return undefined; // the pid went to another process
  }
  return inst.pgid;
}

/** Stop what a dead owner left: its installer (SIGTERM, then SIGKILL) and its secret directory. */
async function cleanUpAfter(owner: LockInfo, what: string, procs: ProcessPorts, ports: LockPorts): Promise<void> {
  const sleep = ports.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const grace = ports.stopGraceMs ?? 5_000;
  const pgid = leftInstaller(owner, procs);
  if (pgid !== undefined) {
    ports.warn?.(`the killed run of ${what} left its installer running (process group ${pgid}); stopping it before this run goes on`);
    const waitGone = async () => {
      for (let waited = 0; waited < grace; waited += 100) {
        if (!procs.isGroupAlive(pgid)) return true;
        await sleep(100);
      }
      return !procs.isGroupAlive(pgid);
    };
    procs.signalGroup(pgid, 'SIGTERM');
    if (!(await waitGone())) {
      procs.signalGroup(pgid, 'SIGKILL');
      if (!(await waitGone())) {
        throw failure('host-locked', `the installer left by the killed run of ${what} (process group ${pgid}) does not stop`, `stop it (kill -KILL -- -${pgid}), then run again with --resume`);
      }
    }
  }
  if (owner.secretDir && (await wipeSecretDir(owner.secretDir))) {
    const since = Date.parse(owner.startedAt);
    const age = Number.isNaN(since) ? '' : `, started ${describeAge((ports.now?.() ?? new Date()).getTime() - since)} ago`;
    ports.warn?.(`wiped the secret directory the killed run of ${what} left behind (pid ${owner.pid}${age}): ${owner.secretDir}`);
  }
}

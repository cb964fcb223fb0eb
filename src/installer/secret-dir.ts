/**
 * The run's secret directory: 0700, RAM-backed when possible ($XDG_RUNTIME_DIR, else /dev/shm,
 * else the temp dir with a warning), named nb-install-XXXX, holding an `owner.json` (pid, the pid's
 * start time, creation time) beside the secrets.
 *
 * It is removed on success, failure, SIGINT, SIGTERM and exit. Nothing runs on kill -9 or the OOM
 * killer, so the owner file lets a later run (and `bootstrap doctor`) recognise a directory whose
 * run is gone and wipe it: file contents overwritten with zeros, then removed.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultProcessPorts, isSameProcessAlive, readProcessStart, type ProcessPorts } from '../exec/process-info.js';

const PREFIX = 'nb-install-';
const OWNER = 'owner.json';
/** A directory without an owner file is younger than this only while its creator writes the file. */
const UNOWNED_GRACE_MS = 10 * 60_000;

export interface SecretDirOwner {
  pid: number;
  pidStart?: string;
  createdAt: string;
}

function usableBase(dir: string | undefined): boolean {
  if (!dir) return false;
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Where secret directories go: RAM-backed when possible. Pure given `exists`. */
export function planSecretBase(env: NodeJS.ProcessEnv, exists: (d: string) => boolean = usableBase): { base: string; onDisk: boolean } {
  if (exists(env.XDG_RUNTIME_DIR ?? '')) return { base: env.XDG_RUNTIME_DIR!, onDisk: false };
  if (exists('/dev/shm')) return { base: '/dev/shm', onDisk: false };
  return { base: tmpdir(), onDisk: true };
}

/** Every place a secret directory may have been made, for the sweep. */
export function listSecretBases(env: NodeJS.ProcessEnv): string[] {
  return [...new Set([env.XDG_RUNTIME_DIR, '/dev/shm', tmpdir()].filter((d): d is string => usableBase(d)))];
}

/** "45 s", "12 min", "3 h 5 min", "2 days" */
export function describeAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} days`;
}

function zeroFilesSync(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) zeroFilesSync(p);
    else if (e.isFile()) writeFileSync(p, Buffer.alloc(statSync(p).size));
  }
}

/** Overwrite every file with zeros, then remove the tree (sync: it also runs in exit handlers). */
export function wipeSecretDirSync(dir: string): void {
  try {
    zeroFilesSync(dir);
  } catch {
    /* gone already, or a file vanished: removing is what matters */
  }
  rmSync(dir, { recursive: true, force: true });
}

async function zeroFiles(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await zeroFiles(p);
    else if (e.isFile()) {
      const fh = await open(p, 'r+');
      try {
        await fh.write(Buffer.alloc((await fh.stat()).size), 0, undefined, 0);
      } finally {
        await fh.close();
      }
    }
  }
}

/** Wipe a secret directory of ours. False when there was nothing to wipe (or it is not one). */
export async function wipeSecretDir(dir: string): Promise<boolean> {
  if (!dir.split('/').at(-1)?.startsWith(PREFIX)) return false;
  try {
    const st = await stat(dir);
    if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) return false;
  } catch {
    return false;
  }
  await zeroFiles(dir).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  return true;
}

async function readOwner(dir: string): Promise<SecretDirOwner | undefined> {
  try {
    const v = JSON.parse(await readFile(join(dir, OWNER), 'utf8')) as SecretDirOwner;
    return Number.isInteger(v.pid) && v.pid > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface SweptDir {
  path: string;
  owner?: SecretDirOwner;
  /** How long ago the dead run made it. */
  ageMs: number;
}

/**
 * Find and wipe the secret directories of runs that are gone (killed, crashed), in `bases`. A
 * directory whose owner still runs is left alone, whoever it is.
 */
export async function sweepStaleSecretDirs(
  bases: readonly string[],
  ports: { now?: () => Date; processes?: ProcessPorts } = {},
): Promise<SweptDir[]> {
  const now = (ports.now ?? (() => new Date()))().getTime();
  const procs = ports.processes ?? defaultProcessPorts;
  const swept: SweptDir[] = [];
  for (const base of bases) {
    let names: string[] = [];
    try {
      names = (await readdir(base)).filter((n) => n.startsWith(PREFIX));
    } catch {
      continue;
    }
    for (const name of names) {
      const dir = join(base, name);
      let st;
      try {
        st = await stat(dir);
      } catch {
        continue;
      }
      if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) continue;
      const owner = await readOwner(dir);
      const createdMs = (owner && Date.parse(owner.createdAt)) || st.mtimeMs;
      if (owner ? isSameProcessAlive(owner.pid, owner.pidStart, procs) : now - createdMs < UNOWNED_GRACE_MS) continue;
      if (await wipeSecretDir(dir)) swept.push({ path: dir, ...(owner ? { owner } : {}), ageMs: now - createdMs });
    }
  }
  return swept;
}

/** The sweep's warning for one directory. */
export function describeSwept(d: SweptDir): string {
  const who = d.owner ? `a run that is gone (pid ${d.owner.pid})` : 'a run that is gone';
  return `wiped a secret directory left by ${who}, made ${describeAge(d.ageMs)} ago: ${d.path}`;
}

export interface SecretDirOptions {
  env: NodeJS.ProcessEnv;
  warn?: (text: string) => void;
  /** For tests: where to create the directory. */
  base?: string;
  now?: () => Date;
}

/**
 * Run `fn` with a fresh 0700 directory for secrets and wipe it afterwards, also when `fn` throws,
 * on SIGINT/SIGTERM and on process exit. While it lives, signal handlers remove the directory at
 * once; when no other handler is installed (main.ts installs one that aborts the run), the signal
 * is re-raised so the process ends as it would have.
 */
export async function withSecretDir<T>(fn: (dir: string) => Promise<T>, opts: SecretDirOptions): Promise<T> {
  const planned = opts.base ? { base: opts.base, onDisk: false } : planSecretBase(opts.env);
  if (planned.onDisk) opts.warn?.(`neither $XDG_RUNTIME_DIR nor /dev/shm is available; secrets go to ${planned.base} on disk until the install ends`);
  const dir = mkdtempSync(join(planned.base, PREFIX));
  chmodSync(dir, 0o700);
  const remove = () => wipeSecretDirSync(dir);
  const pidStart = readProcessStart(process.pid);
  const owner: SecretDirOwner = { pid: process.pid, ...(pidStart ? { pidStart } : {}), createdAt: (opts.now?.() ?? new Date()).toISOString() };
  writeFileSync(join(dir, OWNER), JSON.stringify(owner) + '\n', { mode: 0o600 });

  const onSignal = (sig: NodeJS.Signals) => {
    remove();
    detach();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const onExit = () => remove();
  const detach = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  try {
    return await fn(dir);
  } finally {
    detach();
    remove();
  }
}

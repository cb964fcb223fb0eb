/**
 * Who is a pid? A pid alone is not an identity: after a crash the kernel may give it to another
 * process. Its start time (field 22 of /proc/PID/stat, clock ticks since boot) together with the pid
 * is. Where /proc is missing (macOS) the start time is unknown and callers fall back to the pid.
 */
import { readFileSync } from 'node:fs';

/** The start time of `pid` as an opaque string, or undefined (gone, or no /proc). */
export function readProcessStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "PID (comm) S PPID …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall; fields[0] is field 3 (state)
  } catch {
    return undefined;
  }
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

/** Does any process of group `pgid` still run? */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Is the process recorded as (pid, start) still the same process? A live pid whose start time
 * differs is a recycled pid: the recorded process is gone.
 */
export function isSameProcessAlive(pid: number, start: string | undefined, ports: ProcessPorts = defaultProcessPorts): boolean {
  if (!ports.isAlive(pid)) return false;
  if (start === undefined) return true; // nothing to compare with: trust the pid
  const now = ports.startOf(pid);
  return now === undefined || now === start;
}

export interface ProcessPorts {
  isAlive(pid: number): boolean;
  startOf(pid: number): string | undefined;
  isGroupAlive(pgid: number): boolean;
  signalGroup(pgid: number, sig: NodeJS.Signals): void;
}

export const defaultProcessPorts: ProcessPorts = {
  isAlive: isProcessAlive,
  startOf: readProcessStart,
  isGroupAlive,
  signalGroup: (pgid, sig) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* gone already */
    }
  },
};

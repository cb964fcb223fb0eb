/**
 * Every path under the flake's state directory (bootstrap.toml `stateDir`, default .bootstrap):
 * one owner, so pins, journals, locks, resume state and logs never split across two directories
 * when a user configures another stateDir (issue 14). Nothing here touches the disk.
 */
import { join } from 'node:path';

export const DEFAULT_STATE_DIR = '.bootstrap';

/** A log file's time stamp: 2026-07-22T07-18-28Z (no colons, for every filesystem). */
export function buildLogStamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export interface StatePaths {
  /** <flake>/.bootstrap */
  root: string;
  /** Host keys pinned by bootstrap (probe, verify, status): <root>/known_hosts */
  knownHosts: string;
  /** <root>/logs */
  logs: string;
  /** The lock for files hosts share (.sops.yaml, secrets.nix): <root>/flake.lock */
  flakeLock: string;
  /** A host's journal, lock and resume state: <root>/state/HOST (the name must be checked first). */
  hostDir(host: string): string;
  journal(host: string): string;
  lock(host: string): string;
  runState(host: string): string;
  /** An install's log: <root>/logs/HOST-STAMP.log */
  installLog(host: string, now: Date): string;
  /** A fleet run's per-host log: <root>/logs/fleet-HOST-STAMP.log */
  fleetLog(host: string, stamp: string): string;
}

export function statePaths(flakeDir: string, stateDir: string = DEFAULT_STATE_DIR): StatePaths {
  const root = join(flakeDir, stateDir);
  const logs = join(root, 'logs');
  const hostDir = (host: string) => join(root, 'state', host);
  return {
    root,
    knownHosts: join(root, 'known_hosts'),
    logs,
    flakeLock: join(root, 'flake.lock'),
    hostDir,
    journal: (host) => join(hostDir(host), 'journal.jsonl'),
    lock: (host) => join(hostDir(host), 'lock'),
    runState: (host) => join(hostDir(host), 'run.json'),
    installLog: (host, now) => join(logs, `${host}-${buildLogStamp(now)}.log`),
    fleetLog: (host, stamp) => join(logs, `fleet-${host}-${stamp}.log`),
  };
}

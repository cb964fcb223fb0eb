/**
 * Restore a host's latest snapshot and check it, for `bootstrap recover`.
 *
 * Two targets:
 *  - `local`: restic runs here and restores into a directory (`restic restore --verify` reads
 *    every restored file back against the snapshot).
 *  - `ssh`: restic runs ON the reinstalled host through the `restic-bootstrap` wrapper that the
 *    NixOS restic module (24.05 and later) builds from backup.nix. The host already has the
 *    password and S3 keys (delivered as its secrets mode says), so no secret crosses the SSH
 *    connection and data flows from the bucket straight to the host. Older releases have no wrapper: restore
 *    locally and copy, or upgrade the pin.
 */
import type { AppContext } from '../context.js';
import { failure } from '../errors.js';
import { sshDestination, type SshTarget } from '../ssh/target.js';
import { BACKUP_NAME } from './backup-module.js';
import { parseSnapshots, runRestic, runResticSnapshots, type ResticRepo, type Snapshot } from './restic.js';

export type RestoreTarget =
  | { kind: 'local'; dir: string }
  | { kind: 'ssh'; target: SshTarget; knownHostsFile?: string; /** where to restore on the host (default "/") */ dir?: string };

export interface RestoreRequest {
  host: string;
  target: RestoreTarget;
  /** Needed for local restores; ssh restores use the host's own configuration. */
  repo?: ResticRepo;
  /** A snapshot id; default the newest. */
  snapshot?: string;
}

export interface RestoreResult {
  snapshot: Snapshot;
  target: string;
  verified: boolean;
}

const SNAPSHOT_ID = /^[0-9a-f]{8,64}$/;

export function buildSshArgv(t: Extract<RestoreTarget, { kind: 'ssh' }>, remote: string[]): string[] {
  const { target } = t;
  return [
    'ssh', '-p', String(target.port), '-o', 'BatchMode=yes',
    ...(target.identityFile ? ['-i', target.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
    ...(t.knownHostsFile ? ['-o', `UserKnownHostsFile=${t.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes'] : []),
    sshDestination(target), '--', ...remote,
  ];
}

function pick(snapshots: Snapshot[], wanted: string | undefined, host: string): Snapshot {
  if (snapshots.length === 0) throw failure('no-snapshots', `the backup repository of ${host} has no snapshots`, `check \`bootstrap backup status ${host}\`; the backup timer runs restic-backups-${BACKUP_NAME}`);
  if (!wanted) return snapshots[snapshots.length - 1]!;
  const s = snapshots.find((x) => x.id.startsWith(wanted) || x.short_id === wanted);
  if (!s) throw failure('no-such-snapshot', `no snapshot ${wanted} for ${host}`, `see \`bootstrap backup status ${host}\``);
  return s;
}

/**
 * Restore the latest (or the given) snapshot onto the target and verify it. Throws no-snapshots,
 * no-such-snapshot, and command-failed with restic's stderr when restore or verify fails.
 */
export async function runRestore(ctx: Pick<AppContext, 'run' | 'out' | 'signal'>, req: RestoreRequest): Promise<RestoreResult> {
  if (req.snapshot !== undefined && !SNAPSHOT_ID.test(req.snapshot)) throw failure('bad-snapshot', `"${req.snapshot}" is not a snapshot id`);
  const t = req.target;
  if (t.kind === 'local') {
    if (!req.repo) throw failure('no-repository', 'a local restore needs the repository and its password');
    const snap = pick(await runResticSnapshots(ctx.run, req.repo, undefined, ctx.signal), req.snapshot, req.host);
    const task = ctx.out.task(`restore ${req.host} snapshot ${snap.short_id ?? snap.id.slice(0, 8)} into ${t.dir}`);
    try {
      await runRestic(ctx.run, req.repo, ['restore', snap.id, '--target', t.dir, '--verify'], { signal: ctx.signal });
    } catch (e) {
      task.fail();
      throw e;
    }
    task.done('verified');
    return { snapshot: snap, target: t.dir, verified: true };
  }
  const wrapper = `restic-${BACKUP_NAME}`;
  const dir = t.dir ?? '/';
  if (!dir.startsWith('/') || /[\s'"\\$`;&|<>*?]/.test(dir)) throw failure('bad-restore-dir', `restore directory "${dir}" must be an absolute path without shell characters`);
  const list = await ctx.run(buildSshArgv(t, [wrapper, 'snapshots', '--json']), { check: false, signal: ctx.signal });
  if (list.code === 127 || /command not found/.test(list.stderr)) {
    throw failure('no-restic-wrapper', `${wrapper} is not installed on ${req.host}`, 'the host needs backup.nix imported and NixOS 24.05 or later (the restic module builds the wrapper); deploy it, then recover again');
  }
  if (list.code !== 0) throw failure('restic-failed', `listing snapshots on ${req.host} failed: ${list.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  const snap = pick(parseSnapshots(list.stdout), req.snapshot, req.host);
  const task = ctx.out.task(`restore ${req.host} snapshot ${snap.short_id ?? snap.id.slice(0, 8)} on the host into ${dir}`);
  try {
    await ctx.run(buildSshArgv(t, [wrapper, 'restore', snap.id, '--target', dir, '--verify']), { signal: ctx.signal });
  } catch (e) {
    task.fail();
    throw e;
  }
  task.done('verified');
  return { snapshot: snap, target: `${sshDestination(t.target)}:${dir}`, verified: true };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import { isBootstrapError } from '../errors.js';
import type { ProcessPorts } from '../exec/process-info.js';
import { acquireHostLock, parseLockInfo, type LockInfo } from './host-lock.js';

/** A process table: pid → start time; groups that run; the signals sent. */
function fakeProcs(table: Record<number, string>, groups: Set<number>, opts: { stubborn?: boolean } = {}) {
  const sent: string[] = [];
  const ports: ProcessPorts = {
    isAlive: (pid) => pid in table,
    startOf: (pid) => table[pid],
    isGroupAlive: (pgid) => groups.has(pgid),
    signalGroup: (pgid, sig) => {
      sent.push(`${sig} -${pgid}`);
      if (!opts.stubborn) groups.delete(pgid);
    },
  };
  return { ports, sent };
}

async function withStaleLock(owner: LockInfo, fn: (path: string, dir: string) => Promise<void>) {
  await withTempDir(async (dir) => {
    const path = join(dir, 'state/web1/lock');
    await mkdir(join(dir, 'state/web1'), { recursive: true });
    await writeFile(path, JSON.stringify(owner));
    await fn(path, dir);
  });
}

const quick = { sleep: async () => {}, stopGraceMs: 300 };

test('a recycled pid (alive, another start time) is not the owner: the lock is taken over', async () => {
  await withStaleLock({ pid: 4242, pidStart: '1000', startedAt: '2026-11-30T10:00:00Z' }, async (path) => {
    const { ports } = fakeProcs({ 4242: '9999' }, new Set());
    const warned: string[] = [];
    const lock = await acquireHostLock(path, 'web1', { processes: ports, warn: (t) => warned.push(t), ...quick });
    assert.equal(lock.info.pid, process.pid);
    assert.match(warned.join('\n'), /taking over the lock of web1 from pid 4242/);
    await lock.release();
  });
});

test('the same pid with the same start time is the owner: refused', async () => {
  await withStaleLock({ pid: 4242, pidStart: '1000', startedAt: '2026-11-30T10:00:00Z' }, async (path) => {
    const { ports } = fakeProcs({ 4242: '1000' }, new Set());
    await assert.rejects(acquireHostLock(path, 'web1', { processes: ports, ...quick }), (e) => isBootstrapError(e) && e.code === 'host-locked' && /pid 4242/.test(e.message));
  });
});

test('a killed run\'s installer still running is stopped before the takeover', async () => {
  await withStaleLock({ pid: 4242, startedAt: '2026-11-30T10:00:00Z', installer: { pgid: 5000, start: '77' } }, async (path) => {
    const { ports, sent } = fakeProcs({ 5000: '77' }, new Set([5000]));
    const warned: string[] = [];
    const lock = await acquireHostLock(path, 'web1', { processes: ports, warn: (t) => warned.push(t), ...quick });
    assert.deepEqual(sent, ['SIGTERM -5000']);
    assert.match(warned.join('\n'), /left its installer running \(process group 5000\); stopping it/);
    await lock.release();
  });
});

test('an installer that ignores SIGTERM gets SIGKILL; one that survives both refuses the run', async () => {
  await withStaleLock({ pid: 4242, startedAt: '2026-11-30T10:00:00Z', installer: { pgid: 5000 } }, async (path) => {
    const { ports, sent } = fakeProcs({}, new Set([5000]), { stubborn: true });
    await assert.rejects(
      acquireHostLock(path, 'web1', { processes: ports, ...quick }),
      (e) => isBootstrapError(e) && e.code === 'host-locked' && /does not stop/.test(e.message) && /kill -KILL -- -5000/.test(e.hint ?? ''),
    );
    assert.deepEqual(sent, ['SIGTERM -5000', 'SIGKILL -5000']);
    assert.ok(existsSync(path), 'the lock stays while its installer lives');
  });
});

test('an installer group whose leader pid now belongs to another process is left alone', async () => {
  await withStaleLock({ pid: 4242, startedAt: '2026-11-30T10:00:00Z', installer: { pgid: 5000, start: '77' } }, async (path) => {
    const { ports, sent } = fakeProcs({ 5000: '12345' }, new Set([5000]));
    const lock = await acquireHostLock(path, 'web1', { processes: ports, ...quick });
    assert.deepEqual(sent, []);
    await lock.release();
  });
});

test('the killed run\'s secret directory is wiped on takeover, the message says how old it was', async () => {
  await withTempDir(async (dir) => {
    const secretDir = join(dir, 'nb-install-abc123');
    mkdirSync(join(secretDir, 'extra-files'), { recursive: true, mode: 0o700 });
    writeFileSync(join(secretDir, 'disk-encryption.key'), 'hunter2-passphrase');
    await withStaleLock({ pid: 4242, startedAt: '2026-11-30T10:00:00Z', secretDir }, async (path) => {
      const { ports } = fakeProcs({}, new Set());
      const warned: string[] = [];
      const lock = await acquireHostLock(path, 'web1', { processes: ports, warn: (t) => warned.push(t), now: () => new Date('2026-11-30T13:05:00Z'), ...quick });
      assert.ok(!existsSync(secretDir));
      assert.match(warned.join('\n'), /wiped the secret directory the killed run of web1 left behind \(pid 4242, started 3 h 5 min ago\)/);
      await lock.release();
    });
  });
});

test('update records the installer and secret directory; a lock file never names a path outside nb-install-*', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'lock');
    const lock = await acquireHostLock(path, 'web1');
    await lock.update({ installer: { pgid: 777, start: '5' }, secretDir: '/run/user/0/nb-install-x1' });
    const info = parseLockInfo(readFileSync(path, 'utf8'))!;
    assert.deepEqual([info.pid, info.installer, info.secretDir], [process.pid, { pgid: 777, start: '5' }, '/run/user/0/nb-install-x1']);
    assert.ok(info.pidStart, 'the owner\'s start time is recorded');
    await lock.release();
    assert.equal(parseLockInfo(JSON.stringify({ pid: 5, startedAt: 'x', secretDir: '/home/me' }))?.secretDir, undefined);
    assert.equal(parseLockInfo(JSON.stringify({ pid: 5, startedAt: 'x', installer: { pgid: 1 } }))?.installer, undefined);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import type { ProcessPorts } from '../exec/process-info.js';
import { describeAge, describeSwept, sweepStaleSecretDirs, wipeSecretDir } from './secret-dir.js';

const procs = (alive: Record<number, string>): ProcessPorts => ({
  isAlive: (pid) => pid in alive,
  startOf: (pid) => alive[pid],
  isGroupAlive: () => false,
  signalGroup: () => {},
});

function secretDir(base: string, name: string, owner?: object): string {
  const dir = join(base, name);
  mkdirSync(join(dir, 'extra-files'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'extra-files/key'), 'secret');
  if (owner) writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
  return dir;
}

test('the sweep wipes directories of dead (or recycled) owners and of old unowned ones, and nothing else', async () => {
  await withTempDir(async (base) => {
    const now = new Date('2026-11-30T12:00:00Z');
    const dead = secretDir(base, 'nb-install-dead', { pid: 11, createdAt: '2026-11-30T11:00:00Z' });
    const recycled = secretDir(base, 'nb-install-recycled', { pid: 12, pidStart: '100', createdAt: '2026-11-30T11:59:00Z' });
    const live = secretDir(base, 'nb-install-live', { pid: 13, pidStart: '200', createdAt: '2026-11-30T09:00:00Z' });
    const young = secretDir(base, 'nb-install-young');
    const oldUnowned = secretDir(base, 'nb-install-old');
    utimesSync(oldUnowned, new Date('2026-11-29T00:00:00Z'), new Date('2026-11-29T00:00:00Z'));
    utimesSync(young, now, now);
    const other = secretDir(base, 'not-ours', { pid: 11, createdAt: '2026-11-30T11:00:00Z' });
    const swept = await sweepStaleSecretDirs([base], { now: () => now, processes: procs({ 12: '999', 13: '200' }) });
    assert.deepEqual(swept.map((d) => d.path).sort(), [dead, oldUnowned, recycled].sort());
    for (const d of [dead, recycled, oldUnowned]) assert.ok(!existsSync(d), d);
    for (const d of [live, young, other]) assert.ok(existsSync(d), d);
    const msg = describeSwept(swept.find((d) => d.path === dead)!);
    assert.equal(msg, `wiped a secret directory left by a run that is gone (pid 11), made 60 min ago: ${dead}`);
  });
});

test('wipeSecretDir refuses anything not named nb-install-*', async () => {
  await withTempDir(async (base) => {
    const dir = secretDir(base, 'home');
    assert.equal(await wipeSecretDir(dir), false);
    assert.ok(existsSync(dir));
  });
});

test('describeAge', () => {
  assert.deepEqual([5_000, 600_000, 3 * 3_600_000 + 5 * 60_000, 3 * 86_400_000].map(describeAge), ['5 s', '10 min', '3 h 5 min', '3 days']);
});

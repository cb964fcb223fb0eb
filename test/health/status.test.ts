import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLayoutExpectation } from '../../src/health/expect.js';
import { renderHealthTable } from '../../src/health/render.js';
import { countChecks, type HealthReport } from '../../src/health/report.js';
import { buildHealthInput } from '../../src/health/script.js';
import { buildStatusExitCode } from '../../src/workflow/status/index.js';
import { expectFor } from './fixtures.js';

const report = (host: string, status: HealthReport['status'], extra: Partial<HealthReport> = {}): HealthReport => ({
  host, target: `root@${host}`, status, collectedAt: '2026-12-01T00:00:00Z', seconds: 1.25, checks: [], counts: countChecks([]), ...extra,
});

test('exit code: 1 when a host fails; warnings only with --strict', () => {
  assert.equal(buildStatusExitCode([report('a', 'ok'), report('b', 'warn')], false), 0);
  assert.equal(buildStatusExitCode([report('a', 'ok'), report('b', 'warn')], true), 1);
  assert.equal(buildStatusExitCode([report('a', 'fail')], false), 1);
});

test('the table: a row per host with the first problem or the error', () => {
  const t = renderHealthTable([
    report('web1', 'ok'),
    report('db1', 'fail', { checks: [{ id: 'backups.timer', group: 'backups', status: 'fail', summary: 'restic-backups-x.timer is not armed' }], counts: { ok: 0, warn: 0, fail: 1, na: 0 } }),
    report('gone', 'fail', { error: { code: 'ssh-refused', message: 'connection to gone port 22 was refused' } }),
  ]);
  assert.equal(t, [
    'HOST  STATUS  FAIL/WARN TIME    DETAIL',
    'web1  ok      0/0       1.3s    ',
    'db1   FAIL    1/0       1.3s    backups: restic-backups-x.timer is not armed',
    'gone  FAIL    -         1.3s    connection to gone port 22 was refused',
  ].join('\n'));
});

test('layout expectations: btrfs subvolumes with their mountpoints, data-disk, mdadm; unknown layouts give null', () => {
  const b = buildLayoutExpectation({ name: 'single-btrfs', subvolumes: ['containers', 'data=/srv/data'] })!;
  assert.equal(b.rootFs, 'btrfs');
  assert.deepEqual(b.mounts, [
    { mountpoint: '/home', subvolume: '/home' }, { mountpoint: '/nix', subvolume: '/nix' }, { mountpoint: '/var/log', subvolume: '/log' },
    { mountpoint: '/var/lib/containers', subvolume: '/containers' }, { mountpoint: '/srv/data', subvolume: '/data' },
  ]);
  assert.equal(b.encrypted, false);
  assert.equal(buildLayoutExpectation({ name: 'luks-btrfs' })!.encrypted, true);
  assert.deepEqual(buildLayoutExpectation({ name: 'data-disk' })!.mounts, [{ mountpoint: '/data' }]);
  assert.equal(buildLayoutExpectation({ name: 'mdadm-raid1' })!.raid, 'mdadm');
  assert.equal(buildLayoutExpectation({ name: 'no-such-layout' }), null);
  assert.deepEqual(expectFor().secrets, { mode: 'sops', keyFiles: ['/var/lib/sops-nix/key.txt'] });
  assert.equal(expectFor({ backup: { enable: false } }).backupConfigured, false);
  // --copy-host-keys: no key.txt is delivered (the age key comes from the copied host key).
  assert.deepEqual(expectFor({ install: { identity: 'copy-target-keys' } }).secrets.keyFiles, []);
});

test('the script input: key paths as one quoted assignment, before the script', () => {
  const input = buildHealthInput(["/var/lib/it's/key.txt", 'relative/ignored']);
  assert.ok(input.startsWith("NB_KEY_FILES='/var/lib/it'\\''s/key.txt'\n# nixos-bootstrap health report."));
});

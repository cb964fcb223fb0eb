import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHealthChecks } from '../../src/health/checks.js';
import { parseHealthOutput } from '../../src/health/parse.js';
import { worstStatus, type HealthCheck } from '../../src/health/report.js';
import { renderHealthReport } from '../../src/health/render.js';
import { countChecks } from '../../src/health/report.js';
import { BUILT, HEALTHY, expectFor, withSection } from './fixtures.js';
import type { HealthExpectations } from '../../src/health/expect.js';

const KEY = { fingerprint: 'SHA256:abc', pinFile: '.bootstrap/known_hosts' };
const run = (out: string, e: HealthExpectations = expectFor()) => buildHealthChecks(parseHealthOutput(out), e, KEY);
const byId = (cs: HealthCheck[], id: string) => cs.filter((c) => c.id === id);
const one = (cs: HealthCheck[], id: string) => {
  const hit = byId(cs, id);
  assert.equal(hit.length, 1, `one ${id} check, got ${hit.length}`);
  return hit[0]!;
};
const replaceLine = (from: string, to: string) => {
  assert.ok(HEALTHY.includes(from), from);
  return HEALTHY.replace(from, to);
};

test('healthy host: every check ok or n/a, every group present', () => {
  const cs = run(HEALTHY);
  const bad = cs.filter((c) => c.status === 'warn' || c.status === 'fail');
  assert.deepEqual(bad, []);
  assert.equal(worstStatus(cs), 'ok');
  for (const g of ['system', 'disks', 'identity', 'secrets', 'cache', 'backups', 'time', 'space']) assert.ok(cs.some((c) => c.group === g), g);
  assert.match(one(cs, 'system.generation').summary, /runs the system bootstrap built \(generation 3\)/);
  assert.match(one(cs, 'disks.mounts').summary, /\/var\/lib\/containers/);
  assert.match(one(cs, 'disks.luks').summary, /crypted/);
  assert.equal(one(cs, 'secrets.agenix').status, 'n/a');
  assert.equal(byId(cs, 'cache.substituter').length, 2);
  assert.match(one(cs, 'backups.timer').summary, /armed, next run Wed 2026-12-02/);
  assert.ok(cs.every((c) => c.status === 'ok' || c.status === 'n/a' ? c.hint === undefined : true));
  const text = renderHealthReport({ host: 'web1', target: 'root@203.0.113.7', status: 'ok', collectedAt: '', seconds: 0.4, checks: cs, counts: countChecks(cs) });
  assert.ok(text.split('\n').length < 30, 'one screen');
});

test('failed unit: fail naming the unit, with a journalctl hint; degraded state warns', () => {
  let out = replaceLine('state=running', 'state=degraded\nfailed=nginx.service\nfailed=acme-web1.service');
  const cs = run(out);
  const c = one(cs, 'system.failed-units');
  assert.equal(c.status, 'fail');
  assert.equal(c.summary, '2 failed units: nginx.service, acme-web1.service');
  assert.match(c.hint!, /journalctl -b -u nginx\.service/);
  assert.equal(one(cs, 'system.state').status, 'warn');
  assert.equal(worstStatus(cs), 'fail');
});

test('secrets missing: sops secrets absent fail; a missing key file fails; a loose mode warns', () => {
  let out = replaceLine('path=1 /run/secrets/restic-password', 'path=0 /run/secrets/restic-password');
  let c = one(run(out), 'secrets.sops');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /1 of 2 missing: \/run\/secrets\/restic-password/);
  out = replaceLine('symlink=/run/secrets.d/1\n', '').replace('path=1 /run/secrets/attic-netrc', 'path=0 /run/secrets/attic-netrc').replace('path=1 /run/secrets/restic', 'path=0 /run/secrets/restic');
  c = one(run(out), 'secrets.sops');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /not linked to a generation/);
  c = one(run(replaceLine('present=1\nmode=600', 'present=0')), 'secrets.key-file');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /\/var\/lib\/sops-nix\/key\.txt is missing/);
  c = one(run(replaceLine('mode=600', 'mode=644')), 'secrets.key-file');
  assert.equal(c.status, 'warn');
  assert.match(c.hint!, /chmod 600/);
});

test('agenix: a secret whose file or link is missing fails; all present is ok', () => {
  const ag = (t: string, l: string) => withSection('agenix', ['script=/run/current-system/activate', 'secrets_dir=/run/agenix', 'generation=1', `T=${t} /run/agenix.d/1/db`, 'D=/nix/store/x-db.age', `L=${l} /etc/db-password`]);
  assert.equal(one(run(ag('1', '1')), 'secrets.agenix').status, 'ok');
  const c = one(run(ag('1', '0')), 'secrets.agenix');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /\/etc\/db-password/);
});

test('substituter down: our cache fails, another cache warns, with curl reasons', () => {
  const out = replaceLine('- https://cache.example.org/main\ncurl_exit=0\nstore_dir=/nix/store\nhttp=200', '- https://cache.example.org/main\ncurl_exit=7\nhttp=000')
    .replace('- https://cache.nixos.org/\ncurl_exit=0\nstore_dir=/nix/store\nhttp=200', '- https://cache.nixos.org/\ncurl_exit=28\nhttp=000');
  const cs = byId(run(out), 'cache.substituter');
  assert.deepEqual(cs.map((c) => c.status), ['warn', 'fail']);
  assert.match(cs[1]!.summary, /bootstrap's cache\) does not answer: connection refused/);
  assert.match(cs[0]!.summary, /timed out/);
  const denied = replaceLine('- https://cache.example.org/main\ncurl_exit=0\nstore_dir=/nix/store\nhttp=200', '- https://cache.example.org/main\ncurl_exit=0\nhttp=401');
  assert.match(byId(run(denied), 'cache.substituter')[1]!.summary, /HTTP 401; \/run\/secrets\/attic-netrc/);
});

test('cache not configured on the host, or its key not trusted: fail', () => {
  const out = replaceLine('substituters=https://cache.nixos.org/ https://cache.example.org/main', 'substituters=https://cache.nixos.org/')
    .replace(/trusted-public-keys=(\S+) \S+/, 'trusted-public-keys=$1');
  const cs = run(out);
  assert.equal(one(cs, 'cache.configured').status, 'fail');
  assert.equal(one(cs, 'cache.trusted-key').status, 'fail');
  const none = run(HEALTHY, expectFor({ cache: undefined }));
  assert.equal(one(none, 'cache.trusted-key').status, 'n/a');
});

test('timer not armed: fail with a systemctl start hint; a failed last run fails', () => {
  let c = byId(run(replaceLine('ActiveState=active\nNextElapseUSecRealtime=Wed 2026-12-02 00:00:00 UTC', 'ActiveState=inactive\nNextElapseUSecRealtime=')), 'backups.timer')[0]!;
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /restic-backups-bootstrap\.timer is not armed \(inactive, no next run\)/);
  assert.match(c.hint!, /systemctl start restic-backups-bootstrap\.timer/);
  c = one(run(replaceLine('service_Result=success\nservice_ExecMainStatus=0', 'service_Result=exit-code\nservice_ExecMainStatus=1')), 'backups.last-run');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /failed \(exit-code, exit 1\)/);
});

test('no backups configured and no timers: n/a; configured without a timer: fail', () => {
  const out = withSection('backups', []);
  assert.deepEqual(byId(run(out, expectFor({ backup: undefined })), 'backups.timer').map((c) => [c.status, c.summary]), [['n/a', 'no backups configured']]);
  assert.equal(one(run(out), 'backups.timer').status, 'fail');
});

test('wrong generation: fail right after an install, warn on a later status', () => {
  const other = '/nix/store/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz-nixos-system-web1-24.11.20241111';
  const out = HEALTHY.replaceAll(BUILT, other);
  const inst = one(run(out, expectFor({}, 'install')), 'system.generation');
  assert.equal(inst.status, 'fail');
  assert.match(inst.summary, /not the built 7ahnzbc1/);
  assert.equal(one(run(out, expectFor({}, 'status')), 'system.generation').status, 'warn');
  assert.equal(one(run(out, expectFor({}, 'status', null)), 'system.generation').status, 'ok');
  const rolled = replaceLine(`profile=${BUILT}`, `profile=${other}`);
  assert.equal(one(run(rolled), 'system.profile').status, 'warn');
});

test('the host runs the installer or another OS: fail', () => {
  assert.equal(one(run(replaceLine('os_variant=', 'os_variant=installer')), 'system.os').status, 'fail');
  assert.match(one(run(replaceLine('os_id=nixos', 'os_id=debian')), 'system.os').summary, /runs debian 24\.11, not NixOS/);
});

test('disks against the plan: wrong root, missing subvolume, no swap, LUKS closed, BIOS boot', () => {
  const ext4 = withSection('mounts', ['format=findmnt', '/ /dev/vda2 ext4 rw,relatime']);
  const cs = run(ext4);
  assert.equal(one(cs, 'disks.root').status, 'fail');
  assert.match(one(cs, 'disks.root').summary, /ext4, not btrfs/);
  assert.equal(one(cs, 'disks.mounts').status, 'fail');
  assert.equal(one(cs, 'disks.boot').status, 'fail');
  assert.equal(one(cs, 'disks.luks').status, 'fail');
  assert.equal(one(run(withSection('swaps', ['format=swapon'])), 'disks.swap').status, 'fail');
  const plain = run(ext4.replace('efi=1', 'efi=0'), expectFor({ layout: { name: 'single-ext4', swapBytes: 0 } }));
  assert.equal(one(plain, 'disks.root').status, 'ok');
  assert.equal(one(plain, 'disks.boot').status, 'n/a');
  assert.equal(one(plain, 'disks.luks').status, 'n/a');
  assert.equal(one(plain, 'disks.swap').status, 'n/a');
});

test('time and space: unsynchronized clock warns; a full /boot warns, a full / fails', () => {
  assert.equal(one(run(replaceLine('NTPSynchronized=yes', 'NTPSynchronized=no')), 'time.sync').status, 'warn');
  const full = withSection('space', ['/dev/mapper/crypted 40000000 39500000 50000 99% /', '/dev/vda1 1046512 900000 146512 86% /boot']);
  const cs = run(full);
  assert.equal(one(cs, 'space.root').status, 'fail');
  assert.equal(one(cs, 'space.boot').status, 'warn');
  assert.equal(byId(cs, 'space.nix').length, 0, '/nix on the root filesystem is not listed twice');
});

test('backups across a reboot: the journal\'s record decides; without one the result is unknown (warn), never "succeeded"', () => {
  const fresh = 'service_ActiveState=inactive\nservice_Result=success\nservice_ExecMainStatus=0\nservice_ExecMainExitTimestamp=\nservice_InvocationID=';
  const base = replaceLine('service_ActiveState=inactive\nservice_Result=success\nservice_ExecMainStatus=0\nservice_ExecMainExitTimestamp=Tue 2026-12-01 00:02:11 UTC', fresh);
  let c = one(run(base), 'backups.last-run');
  assert.equal(c.status, 'warn');
  assert.match(c.summary, /before the last boot; its result is not in the journal/);
  const ok = JSON.stringify({ __CURSOR: 's=1', __REALTIME_TIMESTAMP: '1796000000000000', MESSAGE_ID: '7ad2d189f7e94e70a38c781354912448' });
  c = one(run(base.replace(fresh, `${fresh}\njournal=${ok}`)), 'backups.last-run');
  assert.equal(c.status, 'ok');
  assert.match(c.summary, /last run 2026-\d\d-\d\dT[\d:]+Z succeeded \(before the last boot, from the journal\)/);
  const bad = JSON.stringify({ __REALTIME_TIMESTAMP: '1796000000000000', MESSAGE_ID: 'd9b373ed55a64feb8242e02dbe79a49c', UNIT_RESULT: 'timeout' });
  c = one(run(base.replace(fresh, `${fresh}\njournal=${bad}`)), 'backups.last-run');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /failed \(timeout; before the last boot/);
  // A run since this boot: the unit's own result wins over an older journal record.
  c = one(run(replaceLine('service_ExecMainStatus=0', `service_ExecMainStatus=0\njournal=${bad}`)), 'backups.last-run');
  assert.equal(c.status, 'ok');
});

test('a running backup: the empty next elapse is "running now"; an inactive timer still fails', () => {
  const running = replaceLine('NextElapseUSecRealtime=Wed 2026-12-02 00:00:00 UTC', 'NextElapseUSecRealtime=').replace('service_ActiveState=inactive', 'service_ActiveState=activating');
  assert.deepEqual(byId(run(running), 'backups.timer').map((c) => c.status), ['ok']);
  assert.match(one(run(running), 'backups.last-run').summary, /running now/);
  assert.equal(one(run(running.replace('ActiveState=active\n', 'ActiveState=inactive\n')), 'backups.timer').status, 'fail');
});

test('nix.conf naming a missing `include` file fails (nix refuses it); a missing `!include` is fine', () => {
  const c = one(run(replaceLine('conf=1\n', 'conf=1\ninclude_missing=/etc/nix/caches.conf\n')), 'cache.nix-conf');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /\/etc\/nix\/caches\.conf/);
  assert.equal(byId(run(HEALTHY), 'cache.nix-conf').length, 0);
});

test('a failed sops-nix activation: the secrets link older than the last activation fails; the same run is ok', () => {
  const at = (sym: number, cur: number) => replaceLine('efi=1', `efi=1\ncurrent_epoch=${cur}`).replace('symlink=/run/secrets.d/1', `symlink=/run/secrets.d/1\nsymlink_epoch=${sym}`);
  assert.equal(one(run(at(1796000000, 1796000004)), 'secrets.sops').status, 'ok');
  const c = one(run(at(1796000000, 1796090000)), 'secrets.sops');
  assert.equal(c.status, 'fail');
  assert.match(c.summary, /last activation did not install them/);
});

test('/boot as an automount: the vfat mounted over autofs, else the fstab entry; autofs alone with a non-vfat entry fails', () => {
  const auto = '/boot systemd-1 autofs rw,relatime,fd=54,pgrp=1,timeout=120,minproto=5,maxproto=5,direct,pipe_ino=13393';
  const triggered = replaceLine('/boot /dev/vda1 vfat', `${auto}\n/boot /dev/vda1 vfat`);
  assert.match(one(run(triggered), 'disks.boot').summary, /ESP \(vfat on \/dev\/vda1\)/);
  const idle = replaceLine('/boot /dev/vda1 vfat rw,relatime,fmask=0077,dmask=0077', auto);
  assert.equal(one(run(idle), 'disks.boot').status, 'fail', 'no fstab entry to tell what it mounts');
  const tab = withSection('fstab', ['/dev/disk/by-label/ESP /boot vfat x-systemd.automount,umask=0077 0 2'], idle);
  assert.equal(one(run(tab), 'disks.boot').status, 'ok');
  const wrong = withSection('fstab', ['/dev/vda1 /boot ext4 x-systemd.automount 0 2'], idle);
  assert.equal(one(run(wrong), 'disks.boot').status, 'fail');
});

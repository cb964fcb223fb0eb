import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHealthOutput, unescapeMountField } from '../../src/health/parse.js';
import { HEALTHY, withSection } from './fixtures.js';

test('healthy output: every section becomes facts', () => {
  const f = parseHealthOutput(HEALTHY);
  assert.equal(f.complete, true);
  assert.equal(f.system.state, 'running');
  assert.deepEqual(f.system.failedUnits, []);
  assert.equal(f.system.generation, 3);
  assert.equal(f.system.os.id, 'nixos');
  assert.equal(f.system.os.variant, null);
  assert.equal(f.system.efi, true);
  assert.equal(f.mounts?.find((m) => m.target === '/home')?.options.includes('subvol=/home'), true);
  assert.deepEqual(f.swaps, [{ name: '/dev/dm-1', type: 'partition', sizeBytes: 2147483648 }]);
  assert.deepEqual(f.cryptDevices, ['crypted', 'cryptswap']);
  assert.deepEqual(f.space?.map((s) => s.mount), ['/', '/nix', '/boot']);
  assert.deepEqual(f.time, { ntp: true, synchronized: true });
  assert.deepEqual(f.keyFiles, [{ path: '/var/lib/sops-nix/key.txt', present: true, mode: '600', owner: 'root' }]);
  assert.equal(f.sops.length, 1);
  assert.deepEqual(f.sops[0]!.secrets?.map((s) => s.path), ['/run/secrets/attic-netrc', '/run/secrets/restic-password']);
  assert.equal(f.sops[0]!.symlinkPath, '/run/secrets');
  assert.equal(f.sops[0]!.symlinkTarget, '/run/secrets.d/1');
  assert.equal(f.agenix, null);
  assert.deepEqual(f.cache.substituters, ['https://cache.nixos.org/', 'https://cache.example.org/main']);
  assert.equal(f.cache.trustedPublicKeys.length, 2);
  assert.deepEqual(f.cache.netrc, { path: '/run/secrets/attic-netrc', present: true });
  assert.deepEqual(f.cache.probes?.map((p) => [p.url, p.http, p.curlExit]), [['https://cache.nixos.org/', 200, 0], ['https://cache.example.org/main', 200, 0]]);
  assert.equal(f.backups?.[0]?.unit, 'restic-backups-bootstrap.timer');
  assert.equal(f.backups?.[0]?.next, 'Wed 2026-12-02 00:00:00 UTC');
  assert.equal(f.backups?.[0]?.serviceResult, 'success');
});

test('missing tools give empty facts and diagnostics, never an error', () => {
  let out = withSection('system', ['!missing systemctl', 'kernel=6.1', 'efi=0']);
  out = withSection('mounts', ['!missing findmnt'], out);
  out = withSection('time', ['!missing timedatectl'], out);
  out = withSection('backups', ['!missing systemctl'], out);
  out = withSection('cache', ['conf=1', 'substituters=https://cache.nixos.org/', 'netrc=0 /etc/nix/netrc', '!missing curl'], out);
  const f = parseHealthOutput(out);
  assert.equal(f.system.failedUnits, null);
  assert.equal(f.system.state, null);
  assert.equal(f.mounts, null);
  assert.equal(f.time, null);
  assert.equal(f.backups, null);
  assert.equal(f.cache.probes, null);
  assert.ok(f.diagnostics.includes('system: missing systemctl'));
});

test('a cut-off output parses as incomplete; no header is an error', () => {
  const cut = HEALTHY.slice(0, HEALTHY.indexOf('@@nb-health section cache'));
  const f = parseHealthOutput(cut);
  assert.equal(f.complete, false);
  assert.equal(f.cache.confFound, false);
  assert.throws(() => parseHealthOutput('sh: not found\n'), /no health report header/);
});

test('agenix lines: true paths, sources and links pair up', () => {
  const f = parseHealthOutput(withSection('agenix', [
    'script=/run/current-system/activate', 'secrets_dir=/run/agenix', 'generation=2',
    'T=1 /run/agenix.d/2/db-password', "D=/nix/store/abc-db-password.age",
    'T=0 /run/agenix.d/2/api-token', 'D=/nix/store/def-api-token.age', 'L=0 /etc/api-token',
  ]));
  assert.deepEqual(f.agenix?.secrets, [
    { source: '/nix/store/abc-db-password.age', truePath: { path: '/run/agenix.d/2/db-password', present: true }, link: null },
    { source: '/nix/store/def-api-token.age', truePath: { path: '/run/agenix.d/2/api-token', present: false }, link: { path: '/etc/api-token', present: false } },
  ]);
});

test('mount fields: findmnt hex escapes and /proc octal escapes', () => {
  assert.equal(unescapeMountField('/mnt/my\\x20disk'), '/mnt/my disk');
  assert.equal(unescapeMountField('/mnt/my\\040disk'), '/mnt/my disk');
  const f = parseHealthOutput(withSection('mounts', ['format=proc', '/dev/vda2 / ext4 rw,relatime 0 0']));
  assert.deepEqual(f.mounts, [{ target: '/', source: '/dev/vda2', fstype: 'ext4', options: ['rw', 'relatime'] }]);
});

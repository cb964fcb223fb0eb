import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../errors.js';
import { buildDiskoDevicesArgv, buildEvalDrvArgv, buildSystemBuildArgv, compareDiskoDisks, parseBuildJson, parseDiskoDevices } from './build-first.js';
import { buildGuardPins, buildPinNames, parseGuardEvents } from './ssh-guard.js';
import { buildHostKey } from '../ssh/host-keys.js';

test('build first: the same attributes nixos-anywhere builds, in one nix call', () => {
  assert.deepEqual(buildSystemBuildArgv('/f', 'web1').slice(3), [
    'build', '--no-link', '--json', '/f#nixosConfigurations."web1".config.system.build.diskoScript', '/f#nixosConfigurations."web1".config.system.build.toplevel',
  ]);
  assert.match(buildSystemBuildArgv('/f', 'web1', { noDiskoDeps: true }).join(' '), /diskoScriptNoDeps/);
  assert.match(buildEvalDrvArgv('/f', 'web1').at(-1)!, /toplevel\.drvPath.*diskoScript\.drvPath/);
  assert.deepEqual(buildDiskoDevicesArgv('/f', 'web1').slice(3, 6), ['eval', '--json', '/f#nixosConfigurations."web1".config.disko.devices.disk']);
});

test('nix build --json output gives the two store paths in order; anything else is a failure', () => {
  const out = JSON.stringify([
    { drvPath: '/nix/store/a.drv', outputs: { out: '/nix/store/aaa-disko' } },
    { drvPath: '/nix/store/b.drv', outputs: { out: '/nix/store/bbb-nixos-system-web1' } },
  ]);
  assert.deepEqual(parseBuildJson(out), { disko: '/nix/store/aaa-disko', toplevel: '/nix/store/bbb-nixos-system-web1' });
  for (const bad of ['', '[]', '{"x":1}', JSON.stringify([{ outputs: { out: 'relative' } }, { outputs: { out: '/x' } }])]) {
    assert.throws(() => parseBuildJson(bad), (e) => isBootstrapError(e) && e.code === 'build-output');
  }
});

test('the evaluated disks must be exactly the planned ones', () => {
  assert.deepEqual(parseDiskoDevices('{"main":"/dev/disk/by-id/a"}'), { main: '/dev/disk/by-id/a' });
  assert.equal(parseDiskoDevices('[1]'), null);
  assert.equal(parseDiskoDevices('{"main":{"device":"x"}}'), null);
  assert.equal(compareDiskoDisks({ main: '/dev/disk/by-id/a' }, ['/dev/disk/by-id/a']), null);
  assert.equal(compareDiskoDisks({ one: '/dev/b', two: '/dev/a' }, ['/dev/a', '/dev/b']), null);
  assert.equal(compareDiskoDisks({ main: '/dev/sda' }, ['/dev/disk/by-id/a']), 'it would format /dev/sda; it does not use /dev/disk/by-id/a');
  assert.equal(compareDiskoDisks({ main: '/dev/a', data: '/dev/c' }, ['/dev/a']), 'it would format /dev/c');
});

test('guard pins: every key under every port name of the run; records parse', () => {
  const k1 = buildHostKey(Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOx0oHyXiwNWF1ts2w0p1OkdHc9uuKBN6d3/qWXyTxcZ', 'base64'));
  assert.deepEqual(buildPinNames('203.0.113.7', [2222, 22, 22]), ['[203.0.113.7]:2222', '203.0.113.7']);
  const pins = buildGuardPins(['[h]:2222', 'h'], [k1, k1]);
  assert.equal(pins.trim().split('\n').length, 2, 'a key listed twice is pinned once per name');
  assert.match(pins, /^\[h\]:2222 ssh-ed25519 AAAA/m);
  assert.match(pins, /^h ssh-ed25519 AAAA/m);
  assert.deepEqual(parseGuardEvents('host-key-mismatch SHA256:abc\nnoise\nhost-key-mismatch unknown\n'), [
    { kind: 'host-key-mismatch', presented: 'SHA256:abc' },
    { kind: 'host-key-mismatch', presented: undefined },
  ]);
});

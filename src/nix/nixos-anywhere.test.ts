import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../errors.js';
import { parseTarget } from '../ssh/target.js';
import {
  addBuildOn,
  addCopyHostKeys,
  addDiskEncryptionKeys,
  addFlake,
  addHardwareConfig,
  addSshOptions,
  addTarget,
  buildPhaseArgv,
  locateNixosAnywhere,
  type NixosAnywhereOptions,
} from './nixos-anywhere.js';

const target = parseTarget('root@203.0.113.7:2222');
const base: NixosAnywhereOptions = {
  flake: '/home/me/infra',
  host: 'web1',
  target,
  identityFile: '/home/me/.ssh/id_ed25519',
  extraFilesDir: '/run/user/0/nb-x/extra-files',
  diskEncryptionKeys: [{ remotePath: '/tmp/secret.key', localPath: '/run/user/0/nb-x/disk.key' }],
  buildOn: 'local',
  knownHostsFile: '/home/me/infra/.bootstrap/known_hosts',
  hardwareConfig: { backend: 'nixos-facter', path: '/home/me/infra/hosts/web1/facter.json' },
};

test('small builders append exactly their flags', () => {
  assert.deepEqual(addFlake([], { flake: '.', host: 'web1' }), ['--flake', '.#web1']);
  assert.deepEqual(addTarget([], { target: parseTarget('root@h1') }), ['--target-host', 'root@h1']);
  assert.deepEqual(addTarget([], { target }), ['--target-host', 'root@203.0.113.7', '-p', '2222']);
  assert.deepEqual(addTarget([], { target: parseTarget('root@[2001:db8::1]:22') }), ['--target-host', 'root@2001:db8::1']);
  assert.deepEqual(addCopyHostKeys(['x'], { copyHostKeys: true }), ['x', '--copy-host-keys']);
  assert.deepEqual(addCopyHostKeys(['x'], {}), ['x']);
  assert.deepEqual(addBuildOn([], { buildOn: 'remote' }), ['--build-on', 'remote']);
  assert.deepEqual(addSshOptions([], { knownHostsFile: '/k', sshOptions: ['ConnectTimeout=10'] }), [
    '--ssh-option', 'UserKnownHostsFile=/k', '--ssh-option', 'ConnectTimeout=10',
  ]);
  assert.deepEqual(addDiskEncryptionKeys([], { diskEncryptionKeys: [{ remotePath: '/tmp/secret.key', localPath: '/s/k' }] }), [
    '--disk-encryption-keys', '/tmp/secret.key', '/s/k',
  ]);
  assert.deepEqual(addHardwareConfig([], { hardwareConfig: { backend: 'nixos-facter', path: 'hosts/web1/facter.json' } }), [
    '--generate-hardware-config', 'nixos-facter', 'hosts/web1/facter.json',
  ]);
});

test('phase argv: each phase gets the flags the tool reads in that phase', () => {
  const common = ['--flake', '/home/me/infra#web1', '--target-host', 'root@203.0.113.7', '-p', '2222', '-i', '/home/me/.ssh/id_ed25519',
    '--ssh-option', 'UserKnownHostsFile=/home/me/infra/.bootstrap/known_hosts', '--build-on', 'local'];
  assert.deepEqual(buildPhaseArgv(['nixos-anywhere'], base, 'kexec'), [
    'nixos-anywhere', ...common, '--phases', 'kexec', '--generate-hardware-config', 'nixos-facter', '/home/me/infra/hosts/web1/facter.json',
  ]);
  assert.deepEqual(buildPhaseArgv(['nixos-anywhere'], { ...base, noDiskoDeps: true }, 'disko'), [
    'nixos-anywhere', ...common, '--phases', 'disko', '--disk-encryption-keys', '/tmp/secret.key', '/run/user/0/nb-x/disk.key', '--no-disko-deps',
  ]);
  assert.deepEqual(buildPhaseArgv(['nixos-anywhere'], { ...base, copyHostKeys: true, debug: true }, 'install'), [
    'nixos-anywhere', ...common, '--phases', 'install', '--extra-files', '/run/user/0/nb-x/extra-files', '--copy-host-keys', '--debug',
  ]);
  assert.deepEqual(buildPhaseArgv(['nixos-anywhere'], base, 'reboot'), ['nixos-anywhere', ...common, '--phases', 'reboot']);
});

test('after kexec the later phases use the installer port', () => {
  const o = { ...base, afterKexecPort: 22 };
  const kexec = buildPhaseArgv(['na'], o, 'kexec');
  assert.deepEqual(kexec.slice(3, 7), ['--target-host', 'root@203.0.113.7', '-p', '2222']);
  assert.ok(!kexec.includes('--post-kexec-ssh-port'));
  const disko = buildPhaseArgv(['na'], o, 'disko');
  assert.ok(!disko.includes('-p'));
  const custom = buildPhaseArgv(['na'], { ...base, afterKexecPort: 2200 }, 'kexec');
  assert.deepEqual(custom.slice(custom.indexOf('--post-kexec-ssh-port'), custom.indexOf('--post-kexec-ssh-port') + 2), ['--post-kexec-ssh-port', '2200']);
  assert.deepEqual(buildPhaseArgv(['na'], { ...base, afterKexecPort: 2200 }, 'install').slice(5, 7), ['-p', '2200']);
});

test('values that would be read as flags or break the flake URI are usage errors', () => {
  const isUsage = (code: string) => (e: unknown) => isBootstrapError(e) && e.kind === 'usage' && e.code === code;
  assert.throws(() => addFlake([], { flake: '.#x', host: 'web1' }), isUsage('bad-flake'));
  assert.throws(() => addFlake([], { flake: '.', host: 'web 1' }), isUsage('bad-host'));
  assert.throws(() => addSshOptions([], { sshOptions: ['-oProxyCommand=evil'] }), isUsage('bad-ssh-option'));
  assert.throws(() => addSshOptions([], { sshOptions: ['ProxyCommand=sh -c x'] }), isUsage('bad-ssh-option'));
  assert.throws(() => addDiskEncryptionKeys([], { diskEncryptionKeys: [{ remotePath: 'tmp/k', localPath: '/k' }] }), isUsage('bad-argument'));
  assert.throws(() => buildPhaseArgv(['na'], { ...base, extraFilesDir: '--evil' }, 'install'), isUsage('bad-argument'));
});

test('locate: PATH first, then nix run, else missing-tool with a hint', () => {
  const env = { PATH: '/a:/b' };
  assert.deepEqual(locateNixosAnywhere(env, (p) => p === '/b/nixos-anywhere'), { prefix: ['/b/nixos-anywhere'], via: 'path' });
  assert.deepEqual(locateNixosAnywhere(env, (p) => p === '/a/nix'), {
    prefix: ['/a/nix', '--extra-experimental-features', 'nix-command flakes', 'run', 'github:nix-community/nixos-anywhere', '--'],
    via: 'nix-run',
  });
  assert.throws(() => locateNixosAnywhere(env, () => false), (e) => isBootstrapError(e) && e.code === 'missing-tool' && /nix run/.test(e.hint ?? ''));
});

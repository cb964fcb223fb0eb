import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../errors.js';
import { parseTarget } from '../ssh/target.js';
import {
  addBuildOn,
  addCopyHostKeys,
  addDiskEncryptionKeys,
  addFlake,
  addSshOptions,
  addStorePaths,
  addTarget,
  buildInstallerArgv,
  installerVersionWarning,
  locateNixosAnywhere,
  PHASES,
  type NixosAnywhereOptions,
} from './nixos-anywhere.js';
import { compareVersions, MIN_NIX_VERSION, NIXOS_ANYWHERE_PIN, nixosAnywhereVersionFromPath, parseNixVersion } from './pinned-installer.js';

const target = parseTarget('root@203.0.113.7:2222');
const base: NixosAnywhereOptions = {
  flake: '/home/me/infra',
  host: 'web1',
  target,
  storePaths: { disko: '/nix/store/aaa-disko', toplevel: '/nix/store/bbb-nixos-system-web1' },
  identityFile: '/home/me/.ssh/id_ed25519',
  extraFilesDir: '/run/user/0/nb-x/extra-files',
  diskEncryptionKeys: [{ remotePath: '/tmp/secret.key', localPath: '/run/user/0/nb-x/disk.key' }],
};

test('small builders append exactly their flags', () => {
  assert.deepEqual(addFlake([], { flake: '.', host: 'web1' }), ['--flake', '.#web1']);
  assert.deepEqual(addStorePaths([], { storePaths: { disko: '/nix/store/a', toplevel: '/nix/store/b' } }), ['--store-paths', '/nix/store/a', '/nix/store/b']);
  assert.deepEqual(addTarget([], { target: parseTarget('root@h1') }), ['--target-host', 'root@h1']);
  assert.deepEqual(addTarget([], { target }), ['--target-host', 'root@203.0.113.7', '-p', '2222']);
  assert.deepEqual(addTarget([], { target: parseTarget('root@[2001:db8::1]:22') }), ['--target-host', 'root@2001:db8::1']);
  assert.deepEqual(addCopyHostKeys(['x'], { copyHostKeys: true }), ['x', '--copy-host-keys']);
  assert.deepEqual(addCopyHostKeys(['x'], {}), ['x']);
  assert.deepEqual(addBuildOn([], { buildOn: 'remote' }), ['--build-on', 'remote']);
  assert.deepEqual(addSshOptions([], { sshOptions: ['ConnectTimeout=10'] }), ['--ssh-option', 'ConnectTimeout=10']);
  assert.deepEqual(addDiskEncryptionKeys([], { diskEncryptionKeys: [{ remotePath: '/tmp/secret.key', localPath: '/s/k' }] }), [
    '--disk-encryption-keys', '/tmp/secret.key', '/s/k',
  ]);
});

test('one call for every phase left: store paths, no build flags, the secrets for the phases that read them', () => {
  assert.deepEqual(buildInstallerArgv(['nixos-anywhere'], { ...base, buildOn: 'local', noDiskoDeps: true, postKexecPort: 22 }, PHASES), [
    'nixos-anywhere', '--store-paths', '/nix/store/aaa-disko', '/nix/store/bbb-nixos-system-web1', '--target-host', 'root@203.0.113.7', '-p', '2222',
    '-i', '/home/me/.ssh/id_ed25519', '--phases', 'kexec,disko,install,reboot', '--disk-encryption-keys', '/tmp/secret.key', '/run/user/0/nb-x/disk.key',
    '--extra-files', '/run/user/0/nb-x/extra-files',
  ]);
  const reboot = buildInstallerArgv(['na'], { ...base, connectPort: 22 }, ['reboot']);
  assert.deepEqual(reboot, ['na', '--store-paths', '/nix/store/aaa-disko', '/nix/store/bbb-nixos-system-web1', '--target-host', 'root@203.0.113.7', '-i', '/home/me/.ssh/id_ed25519', '--phases', 'reboot']);
  const remote = buildInstallerArgv(['na'], { ...base, storePaths: undefined, buildOn: 'remote', noDiskoDeps: true, copyHostKeys: true, envPassword: true, debug: true }, ['install', 'reboot']);
  assert.deepEqual(remote.slice(1, 3), ['--flake', '/home/me/infra#web1']);
  for (const flag of ['--build-on', '--no-disko-deps', '--copy-host-keys', '--env-password', '--debug', '--extra-files']) assert.ok(remote.includes(flag), flag);
  assert.ok(!remote.includes('--disk-encryption-keys'), 'the disko key only goes with the disko phase');
});

test('ports: a call with kexec starts on the target port and names the installer port; a call after kexec starts there', () => {
  const withKexec = buildInstallerArgv(['na'], { ...base, postKexecPort: 2200 }, PHASES);
  assert.deepEqual(withKexec.slice(withKexec.indexOf('-p'), withKexec.indexOf('-p') + 2), ['-p', '2222']);
  assert.deepEqual(withKexec.slice(withKexec.indexOf('--post-kexec-ssh-port'), withKexec.indexOf('--post-kexec-ssh-port') + 2), ['--post-kexec-ssh-port', '2200']);
  const after = buildInstallerArgv(['na'], { ...base, connectPort: 22, postKexecPort: 22 }, ['disko', 'install', 'reboot']);
  assert.ok(!after.includes('-p'), 'port 22 after kexec');
  assert.ok(!after.includes('--post-kexec-ssh-port'));
  // The script switches ports by rewriting the value after `-p`: port 22 must then be explicit.
  const on22 = buildInstallerArgv(['na'], { ...base, target: parseTarget('root@h1'), postKexecPort: 2200 }, PHASES);
  assert.deepEqual(on22.slice(on22.indexOf('--target-host'), on22.indexOf('--target-host') + 4), ['--target-host', 'root@h1', '-p', '22']);
});

test('values that would be read as flags or break the flake URI are usage errors', () => {
  const isUsage = (code: string) => (e: unknown) => isBootstrapError(e) && e.kind === 'usage' && e.code === code;
  assert.throws(() => addFlake([], { flake: '.#x', host: 'web1' }), isUsage('bad-flake'));
  assert.throws(() => addFlake([], { flake: '.', host: 'web 1' }), isUsage('bad-host'));
  assert.throws(() => addSshOptions([], { sshOptions: ['-oProxyCommand=evil'] }), isUsage('bad-ssh-option'));
  assert.throws(() => addSshOptions([], { sshOptions: ['ProxyCommand=sh -c x'] }), isUsage('bad-ssh-option'));
  assert.throws(() => addDiskEncryptionKeys([], { diskEncryptionKeys: [{ remotePath: 'tmp/k', localPath: '/k' }] }), isUsage('bad-argument'));
  assert.throws(() => buildInstallerArgv(['na'], { ...base, extraFilesDir: '--evil' }, ['install']), isUsage('bad-argument'));
  assert.throws(() => buildInstallerArgv(['na'], { ...base, storePaths: { disko: '-x', toplevel: '/y' } }, ['disko']), isUsage('bad-argument'));
});

test('locate: PATH first, then nix run, else missing-tool with a hint', () => {
  const env = { PATH: '/a:/b' };
  assert.deepEqual(locateNixosAnywhere(env, (p) => p === '/b/nixos-anywhere', (p) => p), { prefix: ['/b/nixos-anywhere'], via: 'path' });
  assert.deepEqual(locateNixosAnywhere(env, (p) => p === '/a/nix'), {
    // Pinned: the revision the tests run, never whatever upstream main is today.
    prefix: ['/a/nix', '--extra-experimental-features', 'nix-command flakes', 'run', 'github:nix-community/nixos-anywhere/91fc9b70fc295258c366cce8627efb6f185fd9fb', '--'],
    via: 'nix-run',
  });
  assert.throws(() => locateNixosAnywhere(env, () => false), (e) => isBootstrapError(e) && e.code === 'missing-tool' && /nix run/.test(e.hint ?? ''));
});

test('locate: the version of a nixos-anywhere on PATH comes from its store path; another one than the pin is warned about', () => {
  const env = { PATH: '/home/me/.nix-profile/bin' };
  const inStore = (v: string) => (p: string) => (p.endsWith('/nixos-anywhere') ? `/nix/store/${'a'.repeat(32)}-nixos-anywhere-${v}/bin/nixos-anywhere` : p);
  const old = locateNixosAnywhere(env, (p) => p.endsWith('/nixos-anywhere'), inStore('1.9.0'));
  assert.equal(old.version, '1.9.0');
  assert.match(installerVersionWarning(old) ?? '', /nixos-anywhere on PATH is 1\.9\.0 .*tested with 1\.13\.0-98-g91fc9b7/);
  const same = locateNixosAnywhere(env, (p) => p.endsWith('/nixos-anywhere'), inStore(NIXOS_ANYWHERE_PIN.version));
  assert.equal(installerVersionWarning(same), undefined);
  // Outside the store nothing names the version: no warning (doctor says it is unknown).
  const plain = locateNixosAnywhere(env, (p) => p.endsWith('/nixos-anywhere'), (p) => p);
  assert.equal(plain.version, undefined);
  assert.equal(installerVersionWarning(plain), undefined);
});

test('pin: nix versions compare numerically (2.8 < 2.16), and store paths give versions', () => {
  assert.equal(parseNixVersion('nix (Nix) 2.8.0'), '2.8.0');
  assert.equal(parseNixVersion('nix (Nix) 2.24.10\n'), '2.24.10');
  assert.equal(parseNixVersion('something else'), undefined);
  assert.ok(compareVersions('2.8.0', MIN_NIX_VERSION) < 0);
  assert.ok(compareVersions('2.16', MIN_NIX_VERSION) === 0);
  assert.ok(compareVersions('2.24.10', MIN_NIX_VERSION) > 0);
  assert.equal(nixosAnywhereVersionFromPath('/usr/local/bin/nixos-anywhere'), undefined);
});

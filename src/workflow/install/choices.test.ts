/** The choice table's derivations below the CLI: what --resume saves, the checks, the manifest read back. */
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../../errors.js';
import { ManifestSchema } from '../../manifest/schema.js';
import { buildResumableAnswers, checkAnswers, InstallAnswersSchema, type InstallAnswers } from './answers.js';
import { buildAnswersFromManifest, buildPlanChoices } from './choice-maps.js';
import { CHOICE_KEYS, INSTALL_CHOICES } from './choices.js';
import { INSTALL_STEPS } from './run-install.js';
import { INSTALL_STEP_IDS } from './step-ids.js';
import { DEFAULT_PHASE_TIMEOUTS_MS, PHASE_TABLE, PHASES } from '../../nix/phases.js';

/** A kexec image file (the check wants a tarball name that is there). */
const IMAGE = join(mkdtempSync(join(tmpdir(), 'nb-choices-')), 'kexec.tar.gz');
writeFileSync(IMAGE, 'x');
process.on('exit', () => rmSync(dirname(IMAGE), { recursive: true, force: true }));
const SHA = 'a'.repeat(64);

/** An answer for every choice, valid for the schema. */
const ALL: InstallAnswers = InstallAnswersSchema.parse({
  host: 'web1', target: 'root@h', identity: 'id', hostKey: 'SHA256:x', acceptNewHostKey: true, timeout: 3, passwordEnv: 'PW', sshConfig: 'ssh_config', profile: 'generic-vm', layout: 'btrfs-raid1',
  disk: 'vda', secondDisk: 'vdb', swap: '1G', hibernate: false, encrypt: false, subvolumes: ['a'], loginKeys: ['k'], loginUser: 'admin', skipRekey: true, allowNoLogin: true, allowLockout: true, copyHostKeys: true,
  buildOn: 'local', noDiskoDeps: true, yes: true, confirmDisk: '/dev/vda', waitTimeout: 60, postKexecPort: 2222, kexecFrom: 'local', kexecImage: IMAGE, kexecUrl: 'https://images.example/k.tar.gz', kexecSha256: SHA, phaseTimeouts: { install: '2h' },
});

test('the sample gives every choice, so the tests below see them all', () => {
  assert.deepEqual(Object.keys(ALL), CHOICE_KEYS);
});

test('--resume saves every answer but the confirmations (yes, confirm-disk)', () => {
  const saved = buildResumableAnswers(ALL);
  assert.deepEqual(CHOICE_KEYS.filter((k) => !(k in saved)), ['yes', 'confirmDisk']);
  assert.deepEqual(saved, Object.fromEntries(Object.entries(ALL).filter(([k]) => k !== 'yes' && k !== 'confirmDisk')));
});

test("checks name the file's key for an answers file and the flag otherwise", () => {
  const message = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(isBootstrapError(e) && e.kind === 'usage');
      return e.message;
    }
    assert.fail('not refused');
  };
  assert.equal(message(() => checkAnswers({ swap: 'lots' }, (k) => `web1.toml: ${k}`)), 'web1.toml: swap "lots" is not a size');
  assert.equal(message(() => checkAnswers({ swap: 'lots' })), '--swap "lots" is not a size');
  assert.match(message(() => checkAnswers({ host: 'Web_1' })), /host/);
  assert.match(message(() => checkAnswers({ layout: 'single-ext4', secondDisk: 'vdb' })), /layout single-ext4 uses one disk, so --second-disk vdb has no place/);
  assert.match(message(() => checkAnswers({ phaseTimeouts: { boot: '1h' } })), /no install phase "boot"/);
  const { kexecUrl: _url, ...consistent } = ALL; // one kexec route: the local one
  assert.deepEqual(checkAnswers(consistent), consistent, 'good answers pass unchanged');
  assert.match(message(() => checkAnswers(ALL)), /--kexec-url is for --kexec-from url, not local/);
  assert.match(message(() => checkAnswers({ kexecImage: IMAGE })), /--kexec-image: --kexec-image without --kexec-sha256/);
  assert.match(message(() => checkAnswers({ kexecSha256: SHA })), /--kexec-sha256 without an image/);
  assert.match(message(() => checkAnswers({ kexecFrom: 'local', kexecSha256: SHA })), /--kexec-from local without --kexec-image/);
  assert.match(message(() => checkAnswers({ kexecFrom: 'url', kexecSha256: SHA })), /--kexec-from url without --kexec-url/);
  assert.match(message(() => checkAnswers({ kexecUrl: 'https://images.example/k.tar.gz' })), /--kexec-url without --kexec-sha256/);
  assert.match(message(() => checkAnswers({ kexecFrom: 'cache' }, (k) => `a.toml: ${k}`)), /^a\.toml: kexecFrom: --kexec-from cache without --kexec-sha256/);
  assert.match(message(() => checkAnswers({ kexecFrom: 'cache', kexecImage: IMAGE, kexecSha256: SHA })), /--kexec-image is for --kexec-from local, not cache/);
  assert.match(message(() => checkAnswers({ kexecUrl: 'ftp://images.example/k.tar.gz', kexecSha256: SHA })), /must be an https:\/\/ \(or http:\/\/\) URL/);
  assert.match(message(() => checkAnswers({ kexecUrl: 'https://u:p@images.example/k.tar.gz', kexecSha256: SHA })), /must not carry a user or password/);
  assert.match(message(() => checkAnswers({ kexecUrl: 'https://images.example/k.zip', kexecSha256: SHA })), /must end in \.tar, \.tar\.gz/);
  assert.deepEqual(checkAnswers({ kexecUrl: 'http://10.0.0.1:8080/k.tar.gz?x=1', kexecSha256: SHA }), { kexecUrl: 'http://10.0.0.1:8080/k.tar.gz?x=1', kexecSha256: SHA });
  assert.deepEqual(checkAnswers({ kexecFrom: 'cache', kexecSha256: `sha256:${SHA}` }), { kexecFrom: 'cache', kexecSha256: `sha256:${SHA}` });
  assert.match(message(() => checkAnswers({ kexecImage: IMAGE, kexecSha256: 'abc' })), /must be a SHA-256 in hex/);
  assert.match(message(() => checkAnswers({ kexecImage: `${IMAGE}.zip`, kexecSha256: SHA })), /must end in \.tar, \.tar\.gz/);
  assert.match(message(() => checkAnswers({ kexecImage: '/nonexistent/k.tar.gz', kexecSha256: SHA })), /is not a file/);
});

test('the plan takes the hardware and installer choices, in its own units', () => {
  assert.deepEqual(buildPlanChoices(ALL), {
    profile: 'generic-vm', layout: 'btrfs-raid1', disk: 'vda', secondDisk: 'vdb', swap: 1024 ** 3, hibernate: false, encrypt: false, subvolumes: ['a'],
    loginUser: 'admin', postKexecPort: 2222, phaseTimeouts: { install: '2h' },
  });
  assert.deepEqual(buildPlanChoices({ phaseTimeouts: { disko: 900 } }), { phaseTimeouts: { disko: '900' } }, 'seconds from a file become text, as the manifest keeps them');
});

test('a manifest gives back only what it records; a provisioned identity is no --copy-host-keys', () => {
  const m = ManifestSchema.parse({
    version: 1, host: 'web1', profile: 'generic-vm', layout: { name: 'single-ext4' }, installDisk: { path: '/dev/vda', sizeBytes: 1 }, install: { identity: 'provisioned' },
  });
  assert.deepEqual(buildAnswersFromManifest(m), { host: 'web1', profile: 'generic-vm', layout: 'single-ext4', disk: '/dev/vda' });
  const full = ManifestSchema.parse({ ...m, install: { identity: 'copy-target-keys', postKexecPort: 2222 }, secondDisk: { byId: '/dev/disk/by-id/b', path: '/dev/vdb', sizeBytes: 1 }, login: { user: 'admin' } });
  assert.deepEqual(buildAnswersFromManifest(full), { host: 'web1', profile: 'generic-vm', layout: 'single-ext4', disk: '/dev/vda', secondDisk: '/dev/disk/by-id/b', loginUser: 'admin', copyHostKeys: true, postKexecPort: 2222 });
  // [login] user is a NixOS user name: a 300-character or shell-like one is refused (issue 19: bad input before any connection).
  assert.equal(ManifestSchema.safeParse({ ...m, login: { user: 'a'.repeat(300) } }).success, false);
  assert.equal(ManifestSchema.safeParse({ ...m, login: { user: 'root;rm' } }).success, false);
  assert.throws(() => checkAnswers({ loginUser: 'Admin User' }), (e) => isBootstrapError(e) && e.code === 'bad-login-user' && e.kind === 'usage');
});

test('the install runs its steps in the declared order, the phases titled and timed by the phase table', () => {
  assert.deepEqual(INSTALL_STEPS.map((s) => s.id), [...INSTALL_STEP_IDS]);
  assert.deepEqual(PHASES, ['kexec', 'disko', 'install', 'reboot']);
  for (const p of PHASE_TABLE) {
    assert.equal(INSTALL_STEPS.find((s) => s.id === p.id)?.title, p.title, p.id);
    assert.equal(DEFAULT_PHASE_TIMEOUTS_MS[p.id], p.defaultTimeoutMs);
  }
  assert.equal(INSTALL_CHOICES.phaseTimeouts.flag.kind === 'repeatable' && INSTALL_CHOICES.phaseTimeouts.flag.help, 'time limit of an installer phase (defaults kexec=15m disko=20m install=90m reboot=10m)');
  assert.equal(ManifestSchema.shape.install.safeParse({ phaseTimeouts: { boot: '1h' } }).success, false, 'the manifest takes only phase names');
});

test('a question without a terminal names the flag that answers it, from the choice table', async () => {
  const { flagHint } = await import('./choices.js');
  assert.equal(flagHint('host'), 'HOST (the first argument)');
  assert.match(flagHint('disk'), /^--disk \S+$/);
  assert.equal(flagHint('encrypt'), '--encrypt');
  assert.match(flagHint('subvolumes'), /^--subvolume \S+$/);
  assert.match(flagHint('target'), /^--target \S+$/);
});

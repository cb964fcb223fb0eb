import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { withTempDir } from '../../test/helpers/tmp.js';
import { isBootstrapError } from '../errors.js';
import { redact } from '../redact.js';
import { buildExtraFilesPlan, buildTreePath, writeExtraFiles, type ExtraFilesInput } from './extra-files.js';
import { planSecretBase, withSecretDir } from './secret-dir.js';

const PRIV = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ-unit-test\n-----END OPENSSH PRIVATE KEY-----\n';
const input: ExtraFilesInput = {
  hostKey: { privateKey: PRIV, publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnitTest web1' },
  ageKey: { path: '/var/lib/sops-nix/key.txt', identity: 'AGE-SECRET-KEY-1UNITTESTUNITTESTUNITTESTUNITTESTUNITTESTUNITTESTUNITTEST' },
  luksPassphrase: 'correct horse battery staple',
};
const mode = (p: string) => statSync(p).mode & 0o777;

test('plan: tree paths, modes, parents first, LUKS key outside the tree', () => {
  const plan = buildExtraFilesPlan(input);
  assert.deepEqual(plan.dirs, ['extra-files', 'extra-files/etc', 'extra-files/var', 'extra-files/etc/ssh', 'extra-files/var/lib', 'extra-files/var/lib/sops-nix']);
  assert.deepEqual(plan.files.map((f) => [f.path, f.mode.toString(8)]), [
    ['extra-files/etc/ssh/ssh_host_ed25519_key', '600'],
    ['extra-files/etc/ssh/ssh_host_ed25519_key.pub', '644'],
    ['extra-files/var/lib/sops-nix/key.txt', '600'],
    ['disk-encryption.key', '600'],
  ]);
  assert.equal(plan.files.at(-1)!.content, 'correct horse battery staple'); // no newline: disko reads it verbatim
  // --copy-host-keys: no host key in the tree
  assert.deepEqual(buildExtraFilesPlan({ ageKey: input.ageKey }).files.map((f) => f.path), ['extra-files/var/lib/sops-nix/key.txt']);
  assert.throws(() => buildExtraFilesPlan({ ...input, ageKey: { path: '/etc/ssh/ssh_host_ed25519_key', identity: 'x' } }), (e) => isBootstrapError(e) && e.code === 'bad-key-path');
  assert.throws(() => buildTreePath('var/lib/x'), (e) => isBootstrapError(e) && e.code === 'bad-key-path');
  assert.throws(() => buildTreePath('/var/../../etc/shadow'), (e) => isBootstrapError(e) && e.code === 'bad-key-path');
});

test('secret base: XDG_RUNTIME_DIR, then /dev/shm, then tmpdir on disk', () => {
  assert.deepEqual(planSecretBase({ XDG_RUNTIME_DIR: '/run/user/1000' }, () => true), { base: '/run/user/1000', onDisk: false });
  assert.deepEqual(planSecretBase({}, (d) => d === '/dev/shm'), { base: '/dev/shm', onDisk: false });
  assert.equal(planSecretBase({}, () => false).onDisk, true);
});

test('writes the tree with exact modes, registers secrets, removes it on success', async () => {
  let seen = '';
  const before = process.listenerCount('SIGINT');
  const res = await withSecretDir(async (dir) => {
    seen = dir;
    const r = await writeExtraFiles(dir, input);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(r.extraFilesDir), 0o755);
    assert.equal(mode(`${r.extraFilesDir}/etc`), 0o755);
    assert.equal(mode(`${r.extraFilesDir}/etc/ssh`), 0o755);
    assert.equal(mode(`${r.extraFilesDir}/etc/ssh/ssh_host_ed25519_key`), 0o600);
    assert.equal(mode(`${r.extraFilesDir}/etc/ssh/ssh_host_ed25519_key.pub`), 0o644);
    assert.equal(mode(`${r.extraFilesDir}/var/lib/sops-nix/key.txt`), 0o600);
    assert.equal(mode(r.diskEncryptionKeyFile!), 0o600);
    assert.ok(!r.diskEncryptionKeyFile!.startsWith(r.extraFilesDir), 'LUKS key must not be copied to the target');
    assert.equal(readFileSync(`${r.extraFilesDir}/etc/ssh/ssh_host_ed25519_key`, 'utf8'), PRIV);
    assert.equal(process.listenerCount('SIGINT'), before + 1);
    return r;
  }, { env: process.env });
  assert.ok(!existsSync(seen));
  assert.ok(!existsSync(res.extraFilesDir));
  assert.ok(!redact(`leak: ${input.luksPassphrase} ${input.ageKey!.identity}`).includes('battery'));
  assert.ok(!redact(input.ageKey!.identity).includes('AGE-SECRET-KEY'));
  // the handlers are gone afterwards
  assert.equal(process.listenerCount('SIGINT'), before);
});

test('removes the directory when the work fails, under an explicit base without a warning', async () => {
  await withTempDir(async (base) => {
    let seen = '';
    const warnings: string[] = [];
    await assert.rejects(
      withSecretDir(async (dir) => {
        seen = dir;
        await writeExtraFiles(dir, input);
        throw new Error('nixos-anywhere failed');
      }, { env: {}, base, warn: (t) => warnings.push(t) }),
      /nixos-anywhere failed/,
    );
    assert.ok(seen.startsWith(base));
    assert.ok(!existsSync(seen));
    assert.equal(warnings.length, 0); // an explicit base is the caller's choice
  });
});

test('service secrets go into the tree at their absolute paths, 0600, and may not escape it', () => {
  const plan = buildExtraFilesPlan({ secretFiles: [{ path: '/var/lib/bootstrap/secrets/restic-password', content: 'pw' }] });
  const f = plan.files.find((x) => x.path.endsWith('restic-password'))!;
  assert.equal(f.path, 'extra-files/var/lib/bootstrap/secrets/restic-password');
  assert.equal(f.mode, 0o600);
  assert.ok(plan.dirs.includes('extra-files/var/lib/bootstrap/secrets'));
  assert.throws(() => buildExtraFilesPlan({ secretFiles: [{ path: '/var/../../etc/x', content: 'pw' }] }), /not an absolute path/);
});

/**
 * The local age vault against the real `age` CLI: files it writes decrypt with `age -d`, files the
 * CLI writes decrypt through the vault, and bad identities or files fail naming the file only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { loadAdminIdentity } from '../../src/secrets/age-identity.js';
import { LocalVault } from '../../src/secrets/local-vault.js';
import { withTempDir } from '../helpers/tmp.js';

async function keygen(file: string): Promise<string> {
  await runCommand(['age-keygen', '-o', file]);
  return (await runCommand(['age-keygen', '-y', file])).stdout.trim();
}

function vaultFor(flakeDir: string, env: NodeJS.ProcessEnv, recipients: string[] = []): LocalVault {
  return new LocalVault({ flakeDir, dir: 'secrets/bootstrap', recipients, loadIdentity: () => loadAdminIdentity(env, flakeDir) });
}

test('vault files decrypt with the age CLI, for the writer and for every configured admin', async () => {
  await withTempDir(async (dir) => {
    const mine = join(dir, 'me.txt');
    const other = join(dir, 'colleague.txt');
    await keygen(mine);
    const otherRecipient = await keygen(other);
    const vault = vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: mine }, [otherRecipient]);
    const ref = await vault.put('hosts/web1/luks-passphrase', 'correct horse battery staple', { kind: 'password' });
    assert.equal(ref, 'local:secrets/bootstrap/hosts/web1/luks-passphrase.age');
    const file = join(dir, 'secrets/bootstrap/hosts/web1/luks-passphrase.age');
    assert.match(await readFile(file, 'utf8'), /^-----BEGIN AGE ENCRYPTED FILE-----/);
    for (const id of [mine, other]) {
      const r = await runCommand(['age', '-d', '-i', id, file]);
      assert.equal(r.stdout, 'correct horse battery staple');
    }
    // a fresh vault (no cache) reads it back
    assert.equal(await vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: other }).get('hosts/web1/luks-passphrase'), 'correct horse battery staple');
    assert.equal(await vault.get('hosts/web1/nothing'), undefined);
    assert.equal(await vault.exists('hosts/web1/luks-passphrase'), true);
  });
});

test('a file the age CLI encrypted reads through the vault; the identity may be given inline', async () => {
  await withTempDir(async (dir) => {
    const idFile = join(dir, 'id.txt');
    const recipient = await keygen(idFile);
    const identity = (await readFile(idFile, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    await writeFile(join(dir, 'plain'), 'from the cli');
    await runCommand(['mkdir', '-p', join(dir, 'secrets/bootstrap/storage/b2')]);
    await runCommand(['age', '-a', '-r', recipient, '-o', join(dir, 'secrets/bootstrap/storage/b2/key.age'), join(dir, 'plain')]);
    const vault = vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: identity });
    assert.equal(await vault.get('storage/b2/key'), 'from the cli');
  });
});

test('public halves are kept beside the file and read without a key', async () => {
  await withTempDir(async (dir) => {
    const idFile = join(dir, 'id.txt');
    await keygen(idFile);
    await vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: idFile }).put('hosts/a/ssh_host_ed25519_key', 'PRIVATE', { kind: 'ssh-key', publicValue: 'ssh-ed25519 AAAA x' });
    const noKey = vaultFor(dir, { HOME: join(dir, 'nohome') });
    assert.equal(await noKey.getPublic('hosts/a/ssh_host_ed25519_key'), 'ssh-ed25519 AAAA x');
  });
});

test('a wrong identity fails naming the file, not the content', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.txt');
    const b = join(dir, 'b.txt');
    await keygen(a);
    await keygen(b);
    await vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: a }).put('hosts/x/secret', 'TOPSECRETVALUE');
    await assert.rejects(vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: b }).get('hosts/x/secret'), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'wrong-age-identity');
      assert.match(e.message, /cannot decrypt secrets\/bootstrap\/hosts\/x\/secret\.age/);
      assert.doesNotMatch(e.message + e.hint, /TOPSECRETVALUE/);
      return true;
    });
  });
});

test('a corrupted vault file fails naming the file', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.txt');
    await keygen(a);
    const vault = vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: a });
    await vault.put('hosts/x/secret', 'v1');
    const file = join(dir, 'secrets/bootstrap/hosts/x/secret.age');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[3] = lines[3]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
    await writeFile(file, lines.join('\n'));
    await assert.rejects(vaultFor(dir, { BOOTSTRAP_AGE_IDENTITY: a }).get('hosts/x/secret'), (e: Error & { code?: string; kind?: string }) => {
      assert.match(e.message, /^cannot decrypt secrets\/bootstrap\/hosts\/x\/secret\.age: /);
      assert.equal(e.code, 'vault-corrupt');
      return true;
    });
  });
});

test('no identity and no recipients: a usage error saying how to create one', async () => {
  await withTempDir(async (dir) => {
    const vault = vaultFor(dir, { HOME: join(dir, 'home') });
    await assert.rejects(vault.put('hosts/x/s', 'v'), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'no-recipients');
      assert.match(e.hint ?? '', /age-keygen -o .*recipients/);
      return true;
    });
    const h = await vault.healthCheck();
    assert.equal(h.kind, 'needs-setup');
    await assert.rejects(loadAdminIdentity({ BOOTSTRAP_AGE_IDENTITY: join(dir, 'missing.txt') }, dir), /cannot read the age identity .*missing\.txt: ENOENT/);
  });
});

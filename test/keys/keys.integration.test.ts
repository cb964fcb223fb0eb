/**
 * Our in-process SSH and age keys against the real `ssh-keygen` and `age` CLIs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { buildAgeIdentityFromSsh, buildAgeRecipientFromSsh, generateAgeKey } from '../../src/keys/age-key.js';
import { buildOpenSshPrivateKey, generateSshKeyPair, parseOpenSshPrivateKey } from '../../src/keys/ssh-key.js';
import { withTempDir } from '../helpers/tmp.js';

test('ssh-keygen -y reads our private key and prints our public key', async () => {
  await withTempDir(async (dir) => {
    const key = generateSshKeyPair('root@web1');
    const file = join(dir, 'key');
    await writeFile(file, key.privateKey, { mode: 0o600 });
    const r = await runCommand(['ssh-keygen', '-y', '-f', file]);
    // ssh-keygen -y prints "type base64 comment"
    assert.equal(r.stdout.trim(), key.publicKey);
    const lf = await runCommand(['ssh-keygen', '-l', '-f', file]);
    assert.match(lf.stdout, /^256 SHA256:\S+ root@web1 \(ED25519\)/);
    assert.equal(lf.stdout.split(' ')[1], key.fingerprint);
  });
});

test('fingerprint of the public line matches ssh-keygen -lf', async () => {
  await withTempDir(async (dir) => {
    const key = generateSshKeyPair('');
    await writeFile(join(dir, 'key.pub'), key.publicKey + '\n');
    const lf = await runCommand(['ssh-keygen', '-l', '-f', join(dir, 'key.pub')]);
    assert.equal(lf.stdout.split(' ')[1], key.fingerprint);
  });
});

test('we parse keys made by ssh-keygen, and our serialization matches theirs byte for byte', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'k');
    await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'made-by-openssh', '-f', file]);
    const text = await readFile(file, 'utf8');
    const parsed = parseOpenSshPrivateKey(text, file);
    assert.equal(parsed.publicKey, (await readFile(`${file}.pub`, 'utf8')).trim());
    const blob = Buffer.from(text.split('\n').slice(1, -2).join(''), 'base64');
    // the checkint sits right after the 4-byte private-section length; reuse it to compare bytes
    const privOffset = blob.indexOf(Buffer.from('ssh-ed25519')) - 4 + 4 + 11 + 4 + 32;
    const checkint = blob.readUInt32BE(privOffset + 4);
    assert.equal(buildOpenSshPrivateKey(parsed.seed, parsed.publicRaw, 'made-by-openssh', checkint), text);
  });
});

test('parse rejects a passphrase-protected key without printing it', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'enc');
    await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', '-N', 'hunter22', '-f', file]);
    const text = await readFile(file, 'utf8');
    assert.throws(() => parseOpenSshPrivateKey(text, 'enc'), (e: Error) => /enc is not a usable.*passphrase-protected/.test(e.message) && !e.message.includes('BEGIN'));
  });
});

test('age: a file encrypted to our derived recipient decrypts with our derived identity', async () => {
  await withTempDir(async (dir) => {
    const key = generateSshKeyPair('h');
    const recipient = buildAgeRecipientFromSsh(key.publicKey);
    const identity = buildAgeIdentityFromSsh(key.seed);
    await writeFile(join(dir, 'plain'), 'hello sops-nix\n');
    await writeFile(join(dir, 'id.txt'), identity + '\n', { mode: 0o600 });
    await runCommand(['age', '-r', recipient, '-o', join(dir, 'f.age'), join(dir, 'plain')]);
    const r = await runCommand(['age', '-d', '-i', join(dir, 'id.txt'), join(dir, 'f.age')]);
    assert.equal(r.stdout, 'hello sops-nix\n');
    const y = await runCommand(['age-keygen', '-y', join(dir, 'id.txt')]);
    assert.equal(y.stdout.trim(), recipient);
  });
});

test('age: a file encrypted with -R host.pub decrypts with the host SSH private key', async () => {
  await withTempDir(async (dir) => {
    const key = generateSshKeyPair('h');
    await writeFile(join(dir, 'host.pub'), key.publicKey + '\n');
    await writeFile(join(dir, 'key'), key.privateKey);
    await chmod(join(dir, 'key'), 0o600);
    await writeFile(join(dir, 'plain'), 'ssh recipient\n');
    await runCommand(['age', '-R', join(dir, 'host.pub'), '-o', join(dir, 'f.age'), join(dir, 'plain')]);
    const r = await runCommand(['age', '-d', '-i', join(dir, 'key'), join(dir, 'f.age')]);
    assert.equal(r.stdout, 'ssh recipient\n');
  });
});

test('age: a separate X25519 key round-trips through the CLI', async () => {
  await withTempDir(async (dir) => {
    const k = await generateAgeKey();
    await writeFile(join(dir, 'id.txt'), k.identity + '\n');
    const y = await runCommand(['age-keygen', '-y', join(dir, 'id.txt')]);
    assert.equal(y.stdout.trim(), k.recipient);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import {
  buildFingerprint,
  buildHostKey,
  buildHostKeyAlgorithms,
  buildKnownHostsLine,
  buildPinnedKnownHosts,
  keyLabel,
  lookupKnownHost,
  matchesHost,
  parseFingerprint,
  parseKeyType,
  parseKnownHosts,
} from './host-keys.js';

let serial = 0;
function keygen(dir: string, type: string): { pubLine: string; blob: Buffer; path: string } {
  const path = join(dir, `k_${type}_${serial++}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'c', '-f', path]);
  const pubLine = readFileSync(`${path}.pub`, 'utf8').trim();
  return { pubLine, blob: Buffer.from(pubLine.split(' ')[1]!, 'base64'), path };
}

test('fingerprints equal what ssh-keygen -lf prints, for each key type', async () => {
  await withTempDir(async (dir) => {
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const k = keygen(dir, type);
      const printed = execFileSync('ssh-keygen', ['-lf', `${k.path}.pub`], { encoding: 'utf8' }).split(' ')[1];
      assert.equal(buildFingerprint(k.blob), printed);
      assert.equal(parseKeyType(k.blob), k.pubLine.split(' ')[0]);
      assert.equal(buildHostKey(k.blob).fingerprint, printed);
    }
  });
});

test('parseKeyType rejects truncated blobs', () => {
  assert.equal(parseKeyType(Buffer.from([0, 0, 0, 50, 1, 2])), null);
  assert.equal(parseKeyType(Buffer.alloc(2)), null);
});

test('known_hosts: plain, [host]:port, comma lists, wildcards, negation, markers, junk', async () => {
  await withTempDir(async (dir) => {
    const a = keygen(dir, 'ed25519');
    const b = keygen(dir, 'ecdsa');
    const [ta, ka] = a.pubLine.split(' ');
    const [tb, kb] = b.pubLine.split(' ');
    const text = [
      '# comment',
      '',
      `web1.example.org,203.0.113.7 ${ta} ${ka}`,
      `[127.0.0.1]:2222 ${tb} ${kb}`,
      `*.lab.example,!bad.lab.example ${ta} ${ka}`,
      `@revoked evil.example ${tb} ${kb}`,
      `@cert-authority *.example.org ${ta} ${ka}`,
      `broken.example ssh-rsa ${ka}`, // type disagrees with blob: skipped
      'too few fields',
      `@weird x ${ta} ${ka}`,
    ].join('\n');
    const entries = parseKnownHosts(text, '/k');
    assert.equal(entries.length, 5);
    assert.deepEqual(entries.map((e) => e.line), [3, 4, 5, 6, 7]);

    const web = lookupKnownHost(entries, '203.0.113.7');
    assert.equal(web.known.length, 1);
    assert.equal(web.known[0]!.key.fingerprint, buildFingerprint(a.blob));
    assert.equal(lookupKnownHost(entries, 'WEB1.example.org').known.length, 1, 'host names are case-insensitive');

    assert.equal(lookupKnownHost(entries, '[127.0.0.1]:2222').known[0]!.key.type, 'ecdsa-sha2-nistp256');
    assert.equal(lookupKnownHost(entries, '127.0.0.1').known.length, 0, 'port 22 name does not match a [host]:port entry');

    assert.equal(lookupKnownHost(entries, 'a.lab.example').known.length, 1);
    assert.equal(lookupKnownHost(entries, 'bad.lab.example').known.length, 0, 'negation wins');

    const evil = lookupKnownHost(entries, 'evil.example');
    assert.equal(evil.known.length, 0);
    assert.equal(evil.revoked.length, 1);
    // @cert-authority lines never count as a known key for the host.
    assert.equal(lookupKnownHost(entries, 'x.example.org').known.length, 0);
  });
});

test('hashed entries written by ssh-keygen -H match, for port 22 and other ports', async () => {
  await withTempDir(async (dir) => {
    const a = keygen(dir, 'ed25519');
    const [t, k] = a.pubLine.split(' ');
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `host.example ${t} ${k}\n[10.0.0.5]:2200 ${t} ${k}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const hashed = readFileSync(file, 'utf8');
    assert.match(hashed, /^\|1\|/m);
    assert.doesNotMatch(hashed, /host\.example/);
    const entries = parseKnownHosts(hashed, file);
    assert.equal(entries.length, 2);
    assert.equal(lookupKnownHost(entries, 'host.example').known.length, 1);
    assert.equal(lookupKnownHost(entries, '[10.0.0.5]:2200').known.length, 1);
    assert.equal(lookupKnownHost(entries, 'other.example').known.length, 0);
    assert.equal(matchesHost('|1|bad|salt', 'host.example'), false);
  });
});

test('a pinned line is OpenSSH format: ssh-keygen -F finds it and ssh-keygen -lf reads it', async () => {
  await withTempDir(async (dir) => {
    const a = keygen(dir, 'ed25519');
    const key = buildHostKey(a.blob);
    const file = join(dir, 'known_hosts');
    const text = buildPinnedKnownHosts('', '[127.0.0.1]:2222', key)!;
    writeFileSync(file, text);
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file], { encoding: 'utf8' });
    assert.match(found, /ssh-ed25519/);
    const listed = execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' });
    assert.ok(listed.includes(key.fingerprint));
    assert.equal(text, `${buildKnownHostsLine('[127.0.0.1]:2222', key)}\n`);
  });
});

test('buildPinnedKnownHosts: idempotent, replaces same name+type, keeps other lines', async () => {
  await withTempDir(async (dir) => {
    const k1 = buildHostKey(keygen(dir, 'ed25519').blob);
    const k2 = buildHostKey(keygen(dir, 'ecdsa').blob);
    const k3 = buildHostKey(keygen(dir, 'ed25519').blob);
    const start = `# mine\nother ${k1.type} ${k1.blob.toString('base64')}\n`;
    const one = buildPinnedKnownHosts(start, 'h', k1)!;
    assert.equal(buildPinnedKnownHosts(one, 'h', k1), null, 'already pinned');
    const two = buildPinnedKnownHosts(one, 'h', k2)!;
    assert.equal(parseKnownHosts(two, 'f').filter((e) => e.hosts === 'h').length, 2, 'another type is added');
    const three = buildPinnedKnownHosts(two, 'h', k3)!;
    const forH = parseKnownHosts(three, 'f').filter((e) => e.hosts === 'h');
    assert.deepEqual(forH.map((e) => e.key.fingerprint).sort(), [k2.fingerprint, k3.fingerprint].sort());
    assert.ok(three.startsWith('# mine\nother '), 'other lines kept as they were');
  });
});

test('parseFingerprint accepts SHA256 and refuses the rest with a usage error', () => {
  const fp = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
  assert.equal(parseFingerprint(fp), fp);
  assert.equal(parseFingerprint(`${fp}=`), fp);
  assert.throws(() => parseFingerprint('SHA256:short'), { code: 'bad-host-key', kind: 'usage' });
  assert.throws(() => parseFingerprint('MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48'), /MD5/);
});

test('host key algorithms put known types first', () => {
  const defaults = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  assert.deepEqual(buildHostKeyAlgorithms(['ssh-rsa'], defaults), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256']);
  assert.deepEqual(buildHostKeyAlgorithms([], defaults), defaults);
  assert.equal(keyLabel('ecdsa-sha2-nistp256'), 'ECDSA');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import { isBootstrapError } from '../errors.js';
import { checkLogin, parseEvaluatedLoginKeys, parseLoginKeyLine, parseLoginKeyLines, resolveLoginKeys, type LoginKeyPorts } from './login-keys.js';

async function realKey(dir: string, name: string, type = 'ed25519'): Promise<{ line: string; fp: string }> {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@laptop`, '-f', path]);
  const fp = execFileSync('ssh-keygen', ['-l', '-f', `${path}.pub`]).toString().split(' ')[1]!;
  return { line: readFileSync(`${path}.pub`, 'utf8').trim(), fp };
}

test('public key lines: real keys parse with ssh-keygen\'s fingerprint; private keys, mislabelled and junk do not', async () => {
  await withTempDir(async (dir) => {
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const k = await realKey(dir, `k-${type}`, type);
      assert.equal(parseLoginKeyLine(k.line)?.fingerprint, k.fp, type);
    }
    const ed = await realKey(dir, 'ed');
    const [, b64] = ed.line.split(' ');
    assert.equal(parseLoginKeyLine(`ssh-rsa ${b64}`), undefined, 'the blob says ed25519');
    assert.equal(parseLoginKeyLine(readFileSync(join(dir, 'ed'), 'utf8')), undefined, 'a private key is not a login key');
    assert.equal(parseLoginKeyLine('ssh-ed25519 not*base64'), undefined);
    assert.equal(parseLoginKeyLine(''), undefined);
    // The comment keeps safe characters only: it is rendered into Nix.
    assert.equal(parseLoginKeyLine(`${ed.line.split(' ').slice(0, 2).join(' ')} me"; ''\${x}@h`)?.line.split(' ').slice(2).join(' '), 'me x@h');
    assert.equal(parseLoginKeyLines(`# keys\n${ed.line}\n\ngarbage\n${ed.line}\n`).length, 2);
  });
});

test('resolve: given keys and .pub files first, then the -i key\'s .pub, then the agent, else none', async () => {
  await withTempDir(async (dir) => {
    const a = await realKey(dir, 'a');
    const b = await realKey(dir, 'b');
    const ports = (files: Record<string, string>, agent?: string): LoginKeyPorts => ({ readFile: async (p) => files[p], agentKeys: async () => agent });
    const pub = { './b.pub': b.line, [`${dir}/id.pub`]: a.line };
    assert.deepEqual((await resolveLoginKeys({ given: [a.line, './b.pub', a.line] }, ports(pub))).keys.map((k) => k.fingerprint), [a.fp, b.fp]);
    const fromId = await resolveLoginKeys({ identityFile: `${dir}/id` }, ports(pub, b.line));
    assert.deepEqual([fromId.source, fromId.from, fromId.keys[0]!.fingerprint], ['identity', `${dir}/id.pub`, a.fp]);
    const fromAgent = await resolveLoginKeys({ identityFile: `${dir}/nope` }, ports(pub, `${b.line}\n`));
    assert.deepEqual([fromAgent.source, fromAgent.keys[0]!.fingerprint], ['agent', b.fp]);
    assert.equal((await resolveLoginKeys({}, ports({}))).source, 'none');
    for (const bad of ['hunter2', '-----BEGIN OPENSSH PRIVATE KEY-----', './missing.pub']) {
      await assert.rejects(resolveLoginKeys({ given: [bad] }, ports(pub)), (e) => isBootstrapError(e) && e.code === 'bad-login-key' && !e.message.includes('hunter2'), bad);
    }
  });
});

test('checkLogin: the operator\'s key for root or another user; others only; nobody', async () => {
  await withTempDir(async (dir) => {
    const mine = parseLoginKeyLine((await realKey(dir, 'mine')).line)!;
    const other = (await realKey(dir, 'other')).line;
    assert.deepEqual(checkLogin({ root: [mine.line] }, [mine]), { kind: 'ok', user: 'root' });
    assert.deepEqual(checkLogin({ root: [other], alice: [other, mine.line] }, [mine]), { kind: 'ok', user: 'alice' });
    assert.deepEqual(checkLogin({ root: [other], deploy: ['keyFiles:1'] }, [mine]), { kind: 'others', users: ['root', 'deploy'] });
    assert.deepEqual(checkLogin({}, [mine]), { kind: 'nobody' });
    assert.deepEqual({ ...parseEvaluatedLoginKeys('{"root":["x"],"__proto__":["y"]}') }, { root: ['x'], ['__proto__']: ['y'] });
    for (const bad of ['[]', '{"root":[1]}', 'null', 'nope']) assert.equal(parseEvaluatedLoginKeys(bad), undefined, bad);
  });
});

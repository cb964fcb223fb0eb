import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import { evalFileJson, withNixFiles } from '../../test/helpers/nix.js';
import { isBootstrapError } from '../errors.js';
import { LOGIN_APPLY, checkLogin, parseEvaluatedLogin, parseLoginKeyLine, parseLoginKeyLines, resolveLoginKeys, rootPowerOf, sshdRefuses, type EvaluatedLogin, type LoginKeyPorts } from './login-keys.js';

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
    assert.deepEqual(checkLogin(evaluated({ keys: { root: [mine.line] } }), [mine]), { kind: 'ok', user: 'root' });
    assert.deepEqual(checkLogin(evaluated({ keys: { root: [other], alice: [other, mine.line] }, groups: { alice: ['wheel'] } }), [mine]), { kind: 'ok', user: 'alice', power: 'password', rootKey: false });
    assert.deepEqual(checkLogin(evaluated({ keys: { root: [other], deploy: ['keyFiles:1'] } }), [mine]), { kind: 'others', users: ['root', 'deploy'] });
    assert.deepEqual(checkLogin(evaluated(), [mine]), { kind: 'nobody' });
  });
});

/** What LOGIN_APPLY prints for a NixOS host (defaults: prohibit-password, sudo on, wheel needs a password). */
function evaluated(over: Partial<EvaluatedLogin> = {}): EvaluatedLogin {
  return { keys: {}, groups: {}, permitRootLogin: 'prohibit-password', allowUsers: null, sudo: true, wheelNeedsPassword: true, nopasswd: [], ...over };
}

test('checkLogin (issue 18): a login sshd admits that can become root, else unusable with the reason per user', async () => {
  await withTempDir(async (dir) => {
    const mine = parseLoginKeyLine((await realKey(dir, 'mine')).line)!;
    const other = (await realKey(dir, 'other')).line;
    const both = { root: [mine.line], admin: [mine.line] };
    const wheel = { root: ['root'], admin: ['users', 'wheel'] };
    // root may log in with a key: root, as before.
    assert.deepEqual(checkLogin(evaluated({ keys: both, groups: wheel }), [mine]), { kind: 'ok', user: 'root' });
    // PermitRootLogin = "no": the admin, with sudo without a password, and root still holds the key (kexec).
    assert.deepEqual(checkLogin(evaluated({ keys: both, groups: wheel, permitRootLogin: 'no', wheelNeedsPassword: false }), [mine]), { kind: 'ok', user: 'admin', power: 'nopasswd', rootKey: true });
    assert.deepEqual(checkLogin(evaluated({ keys: { admin: [mine.line] }, groups: wheel, permitRootLogin: 'no' }), [mine]), { kind: 'ok', user: 'admin', power: 'password', rootKey: false });
    // --login-user wins when usable, also over root.
    assert.deepEqual(checkLogin(evaluated({ keys: both, groups: wheel, wheelNeedsPassword: false }), [mine], 'admin'), { kind: 'ok', user: 'admin', power: 'nopasswd', rootKey: true });
    // A NOPASSWD rule for one user, or for a group it is in.
    assert.equal(rootPowerOf(evaluated({ groups: { ops: ['ops'] }, nopasswd: ['ops'] }), 'ops'), 'nopasswd');
    assert.equal(rootPowerOf(evaluated({ groups: { ops: ['users', 'deploy'] }, nopasswd: ['%deploy'] }), 'ops'), 'nopasswd');
    assert.equal(rootPowerOf(evaluated({ groups: { ops: ['wheel'] }, sudo: false }), 'ops'), 'none');
    // The operator's key only where nobody usable holds it: refused with each user's reason.
    assert.deepEqual(checkLogin(evaluated({ keys: { root: [mine.line], admin: [other] }, groups: wheel, permitRootLogin: 'no' }), [mine]), {
      kind: 'unusable', users: [{ user: 'root', why: 'PermitRootLogin = "no"' }],
    });
    assert.deepEqual(checkLogin(evaluated({ keys: { alice: [mine.line] }, groups: { alice: ['users'] }, permitRootLogin: 'no' }), [mine]), {
      kind: 'unusable', users: [{ user: 'alice', why: 'alice cannot become root (not in wheel, no sudo rule)' }],
    });
    assert.deepEqual(checkLogin(evaluated({ keys: both, groups: wheel, permitRootLogin: 'forced-commands-only', allowUsers: ['deploy', 'ops@10.0.0.*'] }), [mine]), {
      kind: 'unusable', users: [{ user: 'root', why: 'PermitRootLogin = "forced-commands-only"' }, { user: 'admin', why: 'AllowUsers does not list admin' }],
    });
    assert.equal(sshdRefuses(evaluated({ allowUsers: ['adm*'] }), 'admin'), undefined);
    assert.equal(sshdRefuses(evaluated({ allowUsers: ['adm?n@*'] }), 'admin'), undefined);
  });
});

test('parseEvaluatedLogin: the shape LOGIN_APPLY prints, anything else undefined', () => {
  const ok = { users: { root: { keys: ['x'], groups: ['root'] }, __proto__x: { keys: ['y'], groups: [] } }, permitRootLogin: 'no', allowUsers: null, sudo: true, wheelNeedsPassword: false, nopasswd: ['%ops'] };
  assert.deepEqual({ ...parseEvaluatedLogin(JSON.stringify(ok))!.keys }, { root: ['x'], __proto__x: ['y'] });
  assert.equal(parseEvaluatedLogin(JSON.stringify(ok))!.permitRootLogin, 'no');
  for (const bad of ['[]', 'null', 'nope', '{"root":["x"]}', JSON.stringify({ ...ok, sudo: 'yes' }), JSON.stringify({ ...ok, users: { root: { keys: [1], groups: [] } } }), JSON.stringify({ ...ok, allowUsers: 'root' })]) {
    assert.equal(parseEvaluatedLogin(bad), undefined, bad);
  }
});

test('LOGIN_APPLY evaluates with real Nix over a config shaped like NixOS\'s (users, sshd settings, sudo and sudo-rs rules)', async () => {
  const config = `{
    users.users = {
      root = { openssh.authorizedKeys = { keys = [ "ssh-ed25519 AAAAroot" ]; keyFiles = [ ]; }; extraGroups = [ ]; group = "root"; };
      admin = { openssh.authorizedKeys = { keys = [ "ssh-ed25519 AAAAadmin" ]; keyFiles = [ ./x ]; }; extraGroups = [ "wheel" ]; group = "users"; };
      nginx = { openssh.authorizedKeys = { keys = [ ]; keyFiles = [ ]; }; extraGroups = [ ]; group = "nginx"; };
    };
    services.openssh.settings = { PermitRootLogin = "no"; AllowUsers = null; DenyUsers = [ "guest" ]; };
    security.sudo = { enable = true; wheelNeedsPassword = false; extraRules = [ { users = [ "deploy" ]; commands = [ { command = "ALL"; options = [ "NOPASSWD" ]; } ]; } { groups = [ "ops" ]; commands = [ "ALL" ]; } ]; };
  }`;
  await withNixFiles({ 'x': '', 'eval.nix': `let c = ${config}; in (${LOGIN_APPLY}) c` }, async (dir) => {
    const out = parseEvaluatedLogin(JSON.stringify(await evalFileJson(join(dir, 'eval.nix'))))!;
    assert.deepEqual({ ...out, keys: { ...out.keys }, groups: { ...out.groups } }, {
      keys: { admin: ['ssh-ed25519 AAAAadmin', 'keyFiles:1'], root: ['ssh-ed25519 AAAAroot'] },
      groups: { admin: ['wheel', 'users'], root: ['root'] },
      permitRootLogin: 'no', allowUsers: null, denyUsers: ['guest'], allowGroups: null, denyGroups: null, sudo: true, wheelNeedsPassword: false, nopasswd: ['deploy'],
    });
  });
});

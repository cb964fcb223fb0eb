import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../exec/run.js';
import { buildResolvedTarget, explicitParts, formatResolvedTarget, parseSshG, planConfigFile, resolveTarget, splitProxyJump } from './ssh-config.js';
import { parseTarget } from './target.js';

const dir = mkdtempSync(join(tmpdir(), 'nb-sshcfg-'));
const home = join(dir, 'home');
const cfg = join(dir, 'config');
writeFileSync(cfg, `
Host web1
  HostName 10.1.2.3
  Port 2222
  User admin
  IdentityFile ~/.ssh/web1_key
  IdentitiesOnly yes
  IdentityAgent /run/agent.sock
Host inner
  HostName 10.9.0.5
  ProxyJump ops@bastion:2200,jump2
Host bastion
  HostName 10.8.0.1
  ProxyJump edge
Host jump2
  HostName 10.8.0.2
  User hop
  ProxyJump ignored-because-later
Host edge
  HostName 192.0.2.10
Host piped
  ProxyCommand nc %h %p
`);
const ports = { run: runCommand, env: { HOME: home, PATH: process.env.PATH } };
const resolve = (text: string) => resolveTarget(ports, text, parseTarget(text), { configFile: cfg });

test('explicitParts: a user and a port named in the text win over the config', () => {
  assert.deepEqual(explicitParts('web1'), { user: false, port: false });
  assert.deepEqual(explicitParts('root@web1:22'), { user: true, port: true });
  assert.deepEqual(explicitParts('ssh://web1:2200/'), { user: false, port: true });
  assert.deepEqual(explicitParts('[2001:db8::1]:22'), { user: false, port: true });
  assert.deepEqual(explicitParts('2001:db8::1'), { user: false, port: false });
  assert.deepEqual(splitProxyJump('a, u@b:2'), ['a', 'u@b:2']);
  assert.deepEqual(splitProxyJump('none'), []);
  // As ssh -G prints a hop with a port.
  assert.deepEqual(splitProxyJump('root@[127.0.0.1]:4000,[2001:db8::1]:22,b'), ['root@127.0.0.1:4000', '[2001:db8::1]:22', 'b']);
});

test('ssh -G output → resolved values; defaults stay ours (root), default key files are not "configured"', () => {
  const g = parseSshG('host x\nuser me\nhostname x\nport 22\nidentityfile ~/.ssh/id_rsa\nidentityfile ~/.ssh/id_ed25519\nidentitiesonly no\n');
  const t = buildResolvedTarget({ target: parseTarget('x'), explicit: { user: false, port: false }, g, home: '/h', localUser: 'me', env: {}, hop: false });
  assert.deepEqual({ ...t }, { user: 'root', host: 'x', port: 22 });
  // A jump host takes ssh's default user, the local one.
  const hop = buildResolvedTarget({ target: parseTarget('x'), explicit: { user: false, port: false }, g, home: '/h', localUser: 'me', env: {}, hop: true });
  assert.equal(hop.user, 'me');
  const agentFromEnv = buildResolvedTarget({ target: parseTarget('x'), explicit: { user: false, port: false }, g: { ...g, identityAgent: '$OP_SOCK' }, home: '/h', localUser: 'me', env: { OP_SOCK: '/s' }, hop: false });
  assert.equal(agentFromEnv.identityAgent, '/s');
  const none = buildResolvedTarget({ target: parseTarget('x'), explicit: { user: false, port: false }, g: { ...g, identityAgent: 'none' }, home: '/h', localUser: 'me', env: {}, hop: false });
  assert.equal(none.identityAgent, null);
});

test('an alias: HostName, Port, User, IdentityFile (~ expanded), IdentitiesOnly, IdentityAgent, from the real ssh -G', async () => {
  const t = await resolve('web1');
  assert.deepEqual({ ...t }, {
    user: 'admin', host: '10.1.2.3', port: 2222, alias: 'web1', identityFiles: [join(home, '.ssh/web1_key')], identitiesOnly: true, identityAgent: '/run/agent.sock', sshConfig: cfg,
  });
  // What the manifest records: the alias (its route is found again) with the resolved user and port.
  assert.equal(formatResolvedTarget(t), 'admin@web1:2222');
  const given = await resolve('root@web1:22');
  assert.deepEqual([given.user, given.host, given.port], ['root', '10.1.2.3', 22]);
});

test('ProxyJump: a chain of hops, each resolved; the first hop keeps its own ProxyJump, later ones do not', async () => {
  const t = await resolve('inner');
  assert.deepEqual([t.user, t.host, t.port], ['root', '10.9.0.5', 22]);
  const me = userInfo().username;
  assert.deepEqual(t.jumps!.map((h) => [h.user, h.host, h.port, h.alias]), [
    [me, '192.0.2.10', 22, 'edge'],
    ['ops', '10.8.0.1', 2200, 'bastion'],
    ['hop', '10.8.0.2', 22, 'jump2'],
  ]);
});

test('ProxyCommand and a missing --ssh-config are refused as bad input', async () => {
  await assert.rejects(resolve('piped'), { code: 'unsupported-ssh-config', kind: 'usage' });
  await assert.rejects(resolveTarget(ports, 'x', parseTarget('x'), { configFile: join(dir, 'nope') }), { code: 'bad-ssh-config', kind: 'usage' });
});

test('the config read: --ssh-config, else $HOME\'s when HOME is not the account\'s home, else ssh\'s own', () => {
  assert.equal(planConfigFile({ HOME: '/root' }, '/x', '/root'), '/x');
  assert.equal(planConfigFile({ HOME: '/root' }, undefined, '/root'), undefined);
  assert.equal(planConfigFile({ HOME: dir }, undefined, '/root'), '/dev/null');
});

test("the installer's view: the alias kept with the resolved user and port written out, the jump hosts for the ssh guard", async () => {
  const { addTarget } = await import('../nix/nixos-anywhere.js');
  const { buildGuardJumps } = await import('../installer/ssh-guard.js');
  const t = await resolve('inner');
  assert.deepEqual(addTarget([], { target: t }), ['--target-host', 'root@inner', '-p', '22'], 'an alias always gets -p: its config Port must not win');
  assert.deepEqual(addTarget([], { target: parseTarget('root@10.9.0.5') }), ['--target-host', 'root@10.9.0.5']);
  assert.equal(buildGuardJumps(t.jumps!), `ssh://${userInfo().username}@edge:22 ssh://ops@bastion:2200 ssh://hop@jump2:22`);
});

/** Login methods from the ssh config (issue 20): IdentityFile after -i, IdentityAgent, IdentitiesOnly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planAuth } from './auth.js';

const dir = mkdtempSync(join(tmpdir(), 'nb-authcfg-'));
const home = join(dir, 'home');
mkdirSync(join(home, '.ssh'), { recursive: true });
const key = (path: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
key(join(home, '.ssh', 'id_ed25519'));
key(join(dir, 'web1'));
key(join(dir, 'given'));
const envSock = join(dir, 'env.sock');
const opSock = join(dir, 'op.sock');
writeFileSync(envSock, '');
writeFileSync(opSock, '');
const env = { HOME: home, SSH_AUTH_SOCK: envSock };
const labels = (o: Parameters<typeof planAuth>[0]) => planAuth(o, env, () => {}).labels;

test('config IdentityFile: after -i, replaces the default key files; a missing one is skipped', () => {
  assert.deepEqual(labels({}), ['ssh-agent', `key ${join(home, '.ssh/id_ed25519')}`]);
  assert.deepEqual(labels({ identityFiles: [join(dir, 'web1'), join(dir, 'missing')] }), [`key ${join(dir, 'web1')}`, 'ssh-agent']);
  assert.deepEqual(labels({ identityFile: join(dir, 'given'), identityFiles: [join(dir, 'web1')] }), [`key ${join(dir, 'given')}`, `key ${join(dir, 'web1')}`, 'ssh-agent']);
  // The order offered: named keys first, then the agent.
  const m = planAuth({ identityFiles: [join(dir, 'web1')] }, env, () => {}).methods('root');
  assert.deepEqual(m.map((x) => x.type), ['publickey', 'agent']);
});

test('IdentityAgent replaces $SSH_AUTH_SOCK; none turns the agent off', () => {
  assert.deepEqual(labels({ agent: opSock }), [`ssh-agent ${opSock}`, `key ${join(home, '.ssh/id_ed25519')}`]);
  const m = planAuth({ agent: opSock }, env, () => {}).methods('root');
  assert.equal((m.find((x) => x.type === 'agent') as { agent: string }).agent, opSock);
  assert.deepEqual(labels({ agent: null }), [`key ${join(home, '.ssh/id_ed25519')}`]);
});

test('IdentitiesOnly: no agent when the named keys are all loaded; a .pub (a key the agent holds, 1Password) keeps it', () => {
  assert.deepEqual(labels({ identityFiles: [join(dir, 'web1')], identitiesOnly: true }), [`key ${join(dir, 'web1')}`]);
  assert.deepEqual(labels({ identityFiles: [join(dir, 'web1.pub')], identitiesOnly: true, agent: opSock }), [`ssh-agent ${opSock}`]);
});

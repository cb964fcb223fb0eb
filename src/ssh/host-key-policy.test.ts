import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { planHostKeyDecision, type HostKeyFacts } from './host-key-policy.js';
import { buildHostKey, type KnownHostEntry } from './host-keys.js';
import { parseTarget } from './target.js';

function fakeKey(seed: string) {
  const type = Buffer.from('ssh-ed25519');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(type.length);
  const body = createHash('sha256').update(seed).digest();
  const blen = Buffer.alloc(4);
  blen.writeUInt32BE(32);
  return buildHostKey(Buffer.concat([len, type, blen, body]));
}
const A = fakeKey('a');
const B = fakeKey('b');
const entry = (key = A, file = '/flake/.bootstrap/known_hosts', marker: KnownHostEntry['marker'] = null): KnownHostEntry => ({ file, line: 3, marker, hosts: 'h', key });
const base: HostKeyFacts = { target: parseTarget('root@h'), presented: A, known: [], revoked: [], pinFile: '/flake/.bootstrap/known_hosts', acceptNew: false, interactive: false };

test('decision table', () => {
  assert.deepEqual(planHostKeyDecision({ ...base, known: [entry()] }), { trust: true, reason: 'known', persist: false });
  assert.deepEqual(planHostKeyDecision({ ...base, known: [entry(A, '/home/u/.ssh/known_hosts')] }), { trust: true, reason: 'known', persist: true });
  assert.deepEqual(planHostKeyDecision({ ...base, acceptNew: true }), { trust: true, reason: 'accepted-new', persist: true });
  assert.deepEqual(planHostKeyDecision({ ...base, interactive: true }), { trust: 'ask' });
  const pinned = planHostKeyDecision({ ...base, pin: A.fingerprint, known: [entry(B)] });
  assert.equal(pinned.trust, true);
  assert.equal((pinned as { replaced: KnownHostEntry[] }).replaced.length, 1, 'the pin overrides a recorded different key');
  assert.deepEqual(planHostKeyDecision({ ...base, transient: null, known: [entry(B)] }), { trust: true, reason: 'transient', persist: false });
});

test('refusals carry codes, both fingerprints and the file', () => {
  const changed = planHostKeyDecision({ ...base, known: [entry(B)], acceptNew: true, interactive: true });
  assert.equal(changed.trust, false);
  const e = (changed as { error: any }).error;
  assert.equal(e.code, 'host-key-changed');
  assert.ok(e.message.includes(A.fingerprint) && e.message.includes(B.fingerprint));
  assert.ok(e.message.includes('/flake/.bootstrap/known_hosts:3'));

  const mismatch = planHostKeyDecision({ ...base, pin: B.fingerprint }) as { error: any };
  assert.equal(mismatch.error.code, 'host-key-mismatch');
  assert.equal((planHostKeyDecision({ ...base, transient: B.fingerprint }) as { error: any }).error.code, 'host-key-mismatch');

  const unknown = planHostKeyDecision(base) as { error: any };
  assert.equal(unknown.error.code, 'unknown-host-key');
  assert.equal(unknown.error.kind, 'usage');
  assert.ok(unknown.error.hint.includes(`--host-key ${A.fingerprint}`));

  const revoked = planHostKeyDecision({ ...base, revoked: [entry(A, '/k', 'revoked')], pin: A.fingerprint }) as { error: any };
  assert.equal(revoked.error.code, 'host-key-revoked', 'revoked wins even over a pin');
});

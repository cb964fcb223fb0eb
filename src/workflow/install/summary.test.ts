/** The closing hint names a login that works (issue 11), and nixos-rebuild's own target syntax. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNextHint } from './summary.js';

const base = { host: 'web1', dir: 'hosts/web1', target: { user: 'root', host: '203.0.113.7', port: 22 }, rootKeyRendered: false };

test('root only when root holds the operator key; another user with sudo; none says so', () => {
  assert.match(buildNextHint({ ...base, check: { kind: 'ok', user: 'root' } })[0]!, /--target-host root@203\.0\.113\.7$/);
  assert.match(buildNextHint({ ...base, check: { kind: 'ok', user: 'alice' } })[0]!, /--target-host alice@203\.0\.113\.7 --use-remote-sudo$/);
  const others = buildNextHint({ ...base, check: { kind: 'others', users: ['bob'] } })[0]!;
  assert.match(others, /your key cannot log into web1 \(bob has other keys\)/);
  assert.doesNotMatch(others, /root@/);
  assert.match(buildNextHint({ ...base, check: { kind: 'nobody' } })[0]!, /web1 has no login key/);
  // No preflight record: root only when this run wrote the key for root.
  assert.match(buildNextHint({ ...base, check: undefined, rootKeyRendered: true })[0]!, /root@203\.0\.113\.7/);
  assert.doesNotMatch(buildNextHint({ ...base, check: undefined })[0]!, /root@/);
});

test('a port goes in NIX_SSHOPTS, not in --target-host', () => {
  const l = buildNextHint({ ...base, target: { user: 'root', host: '127.0.0.1', port: 2222 }, check: { kind: 'ok', user: 'root' } })[0]!;
  assert.match(l, /NIX_SSHOPTS="-p 2222" nixos-rebuild switch --flake \.#web1 --target-host root@127\.0\.0\.1$/);
});

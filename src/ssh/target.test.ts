import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BootstrapError } from '../errors.js';
import { formatTarget, knownHostsName, parseTarget } from './target.js';

const ok: [string, { user: string; host: string; port: number }][] = [
  ['web1.example.com', { user: 'root', host: 'web1.example.com', port: 22 }],
  ['root@203.0.113.7', { user: 'root', host: '203.0.113.7', port: 22 }],
  ['nixos@192.168.1.20:2222', { user: 'nixos', host: '192.168.1.20', port: 2222 }],
  ['root@[2a01:4f8:c17:1::1]:22', { user: 'root', host: '2a01:4f8:c17:1::1', port: 22 }],
  ['[::1]:2200', { user: 'root', host: '::1', port: 2200 }],
  ['root@2001:db8::5', { user: 'root', host: '2001:db8::5', port: 22 }],
  ['ssh://admin@host.lan:2022', { user: 'admin', host: 'host.lan', port: 2022 }],
  ['  root@localhost  ', { user: 'root', host: 'localhost', port: 22 }],
];

for (const [input, want] of ok) {
  test(`parseTarget accepts ${JSON.stringify(input)}`, () => {
    const t = parseTarget(input);
    assert.deepEqual({ user: t.user, host: t.host, port: t.port }, want);
    assert.ok(Object.isFrozen(t));
  });
}

test('a user name of 32 characters is a user name; 33 is no login anywhere', () => {
  assert.equal(parseTarget(`${'u'.repeat(32)}@h`).user.length, 32);
  for (const input of [`${'u'.repeat(33)}@h`, `${'a'.repeat(300)}@127.0.0.1`]) {
    assert.throws(() => parseTarget(input), (e: unknown) => e instanceof BootstrapError && e.kind === 'usage' && e.code === 'bad-target' && /characters long: no SSH server has a login over 32/.test(e.message));
  }
});

test('control characters anywhere are named as such; surrounding blanks are still trimmed', () => {
  for (const input of ['root\u0007@h', 'root@h\u0000', 'root@\u009b31mh', 'root@h\u007f', 'ro\u001bot@h']) {
    assert.throws(() => parseTarget(input), (e: unknown) => e instanceof BootstrapError && e.code === 'bad-target' && /control character/.test(e.message) && !/[\u0000-\u001f\u007f-\u009f]/.test(e.message), JSON.stringify(input));
  }
  assert.equal(parseTarget('\troot@h \n').host, 'h');
});

const bad = ['', 'root@', '-oProxyCommand=x', 'root@host:0', 'root@host:70000', 'root@host:ab', 'ro ot@host', 'root@[::1', 'root@[::1]x', 'root@bad_host!', 'root@[nothex]:22', '@host'];
for (const input of bad) {
  test(`parseTarget rejects ${JSON.stringify(input)} with a usage error`, () => {
    assert.throws(() => parseTarget(input), (e: unknown) => e instanceof BootstrapError && e.kind === 'usage' && e.code === 'bad-target' && !!e.hint);
  });
}

test('formatTarget and knownHostsName bracket IPv6 and omit port 22', () => {
  assert.equal(formatTarget(parseTarget('root@[2001:db8::1]:2222')), 'root@[2001:db8::1]:2222');
  assert.equal(formatTarget(parseTarget('root@h')), 'root@h');
  assert.equal(knownHostsName(parseTarget('root@h')), 'h');
  assert.equal(knownHostsName(parseTarget('root@127.0.0.1:2222')), '[127.0.0.1]:2222');
  assert.equal(knownHostsName(parseTarget('root@[::1]:2222')), '[::1]:2222');
});

test('identity file is carried on the value', () => {
  assert.equal(parseTarget('root@h', { identityFile: '/k' }).identityFile, '/k');
});

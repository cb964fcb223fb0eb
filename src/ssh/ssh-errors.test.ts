import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapSshError } from './ssh-errors.js';
import { parseTarget } from './target.js';

const c = { target: parseTarget('root@web1.example:2222'), timeoutMs: 10_000, triedAuth: ['key /k', 'ssh-agent'] };
const errno = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

test('socket and ssh2 errors map to one-line errors with codes and hints', () => {
  const cases: [unknown, string, RegExp][] = [
    [errno('ECONNREFUSED'), 'ssh-connection-refused', /web1\.example port 2222 was refused/],
    [errno('EHOSTUNREACH'), 'ssh-unreachable', /unreachable \(EHOSTUNREACH\)/],
    [errno('ENETUNREACH'), 'ssh-unreachable', /ENETUNREACH/],
    [errno('ENOTFOUND'), 'ssh-dns', /cannot resolve the host name "web1\.example"/],
    [errno('EAI_AGAIN'), 'ssh-dns', /EAI_AGAIN/],
    [errno('ETIMEDOUT'), 'ssh-timeout', /within 10 s/],
    [errno('ECONNRESET'), 'ssh-connection-lost', /closed the connection/],
    [Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }), 'ssh-auth-failed', /refused every login we offered \(key \/k, ssh-agent\)/],
    [Object.assign(new Error('Host denied (verification failed)'), { level: 'handshake' }), 'host-key-rejected', /not accepted/],
    [new Error('Timed out while waiting for handshake'), 'ssh-timeout', /no SSH answer/],
    [new Error('Connection lost before handshake'), 'ssh-connection-lost', /before SSH was set up/],
    [Object.assign(new Error('Handshake failed: no matching host key format'), { level: 'handshake' }), 'ssh-handshake-failed', /no matching host key/],
    [new Error('something else\nsecond line'), 'ssh-failed', /^SSH to root@web1\.example:2222 failed: something else$/],
  ];
  for (const [input, code, re] of cases) {
    const e = mapSshError(input, c);
    assert.equal(e.code, code, String(input));
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    assert.equal(e.kind, 'failure');
  }
});

test('auth failure with nothing to offer says so', () => {
  const e = mapSshError(Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }), { ...c, triedAuth: [] });
  assert.match(e.message, /no key, agent or password/);
});

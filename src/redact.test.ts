import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact, registerSecret } from './redact.js';

test('registered secrets are masked, including their lines and base64', () => {
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIB\n-----END OPENSSH PRIVATE KEY-----\n';
  registerSecret(key);
  registerSecret('hunter2-password');
  const text = `pw=hunter2-password line=AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIB b64=${Buffer.from('hunter2-password').toString('base64')}`;
  const out = redact(text);
  assert.ok(!out.includes('hunter2-password'));
  assert.ok(!out.includes('AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIB'));
  assert.ok(!out.includes(Buffer.from('hunter2-password').toString('base64')));
  assert.equal(out.match(/\[REDACTED\]/g)?.length, 3);
});

test('short values are not registered (they would mask ordinary words)', () => {
  registerSecret('abc');
  assert.equal(redact('abc abc'), 'abc abc');
});

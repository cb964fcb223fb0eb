import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../errors.js';
import { buildOpReference, checkOpReference, isOpName, parseOpReference } from './op-reference.js';

const ok = (text: string) => {
  const r = parseOpReference(text);
  assert.ok(r.ok, `${JSON.stringify(text)} refused: ${r.ok ? '' : r.reason}`);
  return r.ref;
};
const refused = (text: string, why: RegExp) => {
  const r = parseOpReference(text);
  assert.ok(!r.ok, `${JSON.stringify(text)} accepted`);
  assert.match(r.reason, why);
};

test('the documented examples parse into vault, item, section and field', () => {
  // developer.1password.com/docs/cli/secret-reference-syntax
  assert.deepEqual(ok('op://Management/PagerDuty/Admin/email'), { vault: 'Management', item: 'PagerDuty', section: 'Admin', field: 'email' });
  assert.deepEqual(ok('op://dev/Stripe/publishable-key'), { vault: 'dev', item: 'Stripe', field: 'publishable-key' });
  assert.deepEqual(ok('op://app-prod/db/password'), { vault: 'app-prod', item: 'db', field: 'password' });
  assert.deepEqual(ok('op://dev/docs/attachment.pdf'), { vault: 'dev', item: 'docs', field: 'attachment.pdf' });
});

test('names with spaces, as bootstrap titles its items (issue 11)', () => {
  assert.deepEqual(ok('op://Infra/web1 ssh host key/private key'), { vault: 'Infra', item: 'web1 ssh host key', field: 'private key' });
  assert.deepEqual(ok('op://My Vault/web 1/Host Keys/private key'), { vault: 'My Vault', item: 'web 1', section: 'Host Keys', field: 'private key' });
  ok('op://a_b/c.d/e-f'); // - _ . are allowed
  ok('op://vault/ item/field'); // the SDK keeps inner and outer spaces
});

test('query parameters the SDK supports', () => {
  assert.equal(ok('op://Infra/web1 ssh host key/private key?ssh-format=openssh').sshFormat, 'openssh');
  assert.equal(ok('op://dev/GitHub/one-time password?attribute=otp').attribute, 'otp');
  assert.equal(ok('op://dev/GitHub/one-time password?attribute=totp').attribute, 'totp');
  refused('op://v/i/f?attribute=type', /not one of \?attribute=otp/); // a CLI-only attribute: the SDK refuses it
  refused('op://v/i/f?ssh-format=pkcs8', /not one of/);
  refused('op://v/i/f?attribute=otp&ssh-format=openssh', /not one of/); // one parameter at most
  refused('op://v/i/f?', /not one of/);
  refused('op://v/i/f?attribute=OTP', /not one of/);
});

test('refusals: scheme, shape, characters, control characters, empty names', () => {
  refused('OP://v/i/f', /must start with op:\/\//);
  refused('local:hosts/web1', /must start with op:\/\//);
  refused('op://v/i', /form op:\/\/vault\/item\/\[section\/\]field \(found 2 parts\)/);
  refused('op://v/i/s/f/x', /found 5 parts/);
  refused('op://v/i/f\n', /one line/);
  refused('op://v/i\tx/f', /one line/);
  refused('op://v/i\u0000/f', /one line/);
  refused('op://v/i\u2028/f', /one line/);
  refused('op://v/it@em/f', /item name "it@em" has a character .* write the item's id instead/);
  refused('op://v/itém/f', /item name/);
  refused('op://Infra & Ops/i/f', /vault name/);
  refused('op://v/i/f%20x', /field name/);
  refused('op://v//f', /item name is empty/);
  refused('op:///i/f', /vault name is empty/);
  refused('op://v/i/ /f', /section name is empty/);
  refused('op://v/i/f/', /field name is empty/);
  assert.equal(isOpName('web1 ssh host key'), true);
  assert.equal(isOpName('a/b'), false);
  assert.equal(isOpName('  '), false);
});

test('build round-trips and refuses what cannot be written; checkOpReference is a one-line usage error', () => {
  const text = buildOpReference({ vault: 'Infra', item: 'web1 ssh host key', field: 'private key', sshFormat: 'openssh' });
  assert.equal(text, 'op://Infra/web1 ssh host key/private key?ssh-format=openssh');
  assert.deepEqual(ok(text), { vault: 'Infra', item: 'web1 ssh host key', field: 'private key', sshFormat: 'openssh' });
  assert.throws(() => buildOpReference({ vault: 'a/b', item: 'i', field: 'f' }), /cannot build/);
  assert.throws(
    () => checkOpReference('op://Infra/web1\nssh/private key', 'bootstrap.toml [secrets.hosts.web1] sshHostKey'),
    (e) => isBootstrapError(e) && e.kind === 'usage' && !e.message.includes('\n') && /^bootstrap\.toml \[secrets\.hosts\.web1\] sshHostKey: "op:\/\/Infra\/web1\\nssh\/private key" is not a 1Password secret reference: it must be one line/.test(e.message),
  );
});

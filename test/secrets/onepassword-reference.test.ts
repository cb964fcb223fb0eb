/**
 * Our op:// parser against the real SDK's own validator (@1password/sdk's
 * Secrets.validateSecretReference runs offline in its WASM core): everything we accept, the SDK
 * accepts; everything the SDK refuses, we refuse. We are stricter only on empty names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOpReference } from '../../src/secrets/op-reference.js';
import { validateWithRealSdk } from '../fakes/onepassword-sdk.js';

const CASES = [
  'op://vault/item/field', 'op://Infra/web1 ssh host key/private key', 'op://Management/PagerDuty/Admin/email', 'op://dev/Stripe/publishable-key',
  'op://vault/item/field?attribute=otp', 'op://vault/item/field?attribute=totp', 'op://vault/item/private key?ssh-format=openssh', 'op://v/i/s/f?ssh-format=openssh',
  'op://vault/item/field?attribute=type', 'op://vault/item/field?attribute=value', 'op://vault/item/field?attribute=id', 'op://vault/item/field?attribute=purpose',
  'op://vault/item/field?foo=bar', 'op://vault/item/field?ssh-format=pkcs8', 'op://vault/item/field?', 'op://vault/item/field?attribute=otp&ssh-format=openssh',
  'op://vault/item', 'op://vault/item/a/b/c', 'OP://vault/item/field', ' op://vault/item/field', 'op://vault/item/field\n', 'op://vault/it\tem/field',
  'op://vault/it\u0000em/field', 'op://vault/it\rem/field', 'op://vault/it@em/field', 'op://vault/it:em/field', 'op://vault/itém/field', 'op://vault/it%20em/field',
  'op://vault/it"em/field', "op://vault/it'em/field", 'op://vault/it#em/field', 'op://vault/it+em/field', 'op://vault/it\u00a0em/field', 'op://vault/it?em/field',
  'op://vault/item/fi eld ', 'op://vault/ item/field', 'op://a_b/c.d/e-f', 'op://vault/item/file.pdf', 'op://abcdefghijklmnopqrstuvwxyz/0123456789abcdefghijklmnop/private_key',
  // stricter than the SDK: empty names
  'op://vault//field', 'op:///item/field', 'op://vault/item/field/', 'op://vault/item/ /field',
];

function sdkAccepts(ref: string): boolean {
  try {
    validateWithRealSdk(ref);
    return true;
  } catch {
    return false;
  }
}

test('every reference we accept, the real SDK accepts; every one it refuses, we refuse', () => {
  const stricter: string[] = [];
  for (const ref of CASES) {
    const ours = parseOpReference(ref).ok;
    const sdk = sdkAccepts(ref);
    if (ours) assert.ok(sdk, `we accept ${JSON.stringify(ref)}, the SDK does not`);
    if (!sdk) assert.ok(!ours, `the SDK refuses ${JSON.stringify(ref)}, we accept it`);
    if (sdk && !ours) stricter.push(ref);
  }
  assert.deepEqual(stricter, ['op://vault//field', 'op:///item/field', 'op://vault/item/field/', 'op://vault/item/ /field']);
});

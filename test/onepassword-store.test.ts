/**
 * Contract tests: what the onepassword backend sends the SDK (through the FAKE client in
 * test/fakes), how it reads back, how often it reads, and its error messages. A live test runs
 * against real 1Password only when OP_SERVICE_ACCOUNT_TOKEN and OP_TEST_VAULT are set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureHostKeys, readHostPublicKeys } from '../src/keys/host-keys.js';
import { generateSshKeyPair, parseOpenSshPrivateKey } from '../src/keys/ssh-key.js';
import { planDesktopAuthProblem } from '../src/secrets/onepassword-client.js';
import { buildItemTitle, OnePasswordStore } from '../src/secrets/onepassword.js';
import { planOnePasswordAuth } from '../src/secrets/open-store.js';
import { FakeOnePassword } from './fakes/onepassword-sdk.js';

function storeFor(fake: FakeOnePassword, token = fake.validToken, vault = 'Infra'): OnePasswordStore {
  return new OnePasswordStore({ vault, auth: { kind: 'token', token }, factory: fake.factory });
}

test('an SSH host key becomes an SshKey item with a PKCS#8 private key field in the right vault', async () => {
  const fake = new FakeOnePassword();
  const key = generateSshKeyPair('root@web1');
  const ref = await storeFor(fake).put('hosts/web1/ssh_host_ed25519_key', key.privateKey, { kind: 'ssh-key', publicValue: key.publicKey });
  assert.equal(ref, 'op://Infra/web1 ssh host key/private key');
  const create = fake.calls.find((c) => c.method === 'items.create')!.args[0] as Record<string, unknown>;
  assert.equal(create.category, 'SshKey');
  assert.equal(create.vaultId, fake.vaults[0]!.id);
  assert.equal(create.title, 'web1 ssh host key');
  const [field] = create.fields as { id: string; title: string; fieldType: string; value: string }[];
  assert.deepEqual({ ...field, value: undefined }, { id: 'private_key', title: 'private key', fieldType: 'SshKey', value: undefined });
  assert.match(field!.value, /^-----BEGIN PRIVATE KEY-----\n/);

  // A new run reads it back in OpenSSH format, through one resolve call.
  const fresh = storeFor(fake);
  const back = await fresh.get('hosts/web1/ssh_host_ed25519_key');
  assert.deepEqual(Buffer.from(parseOpenSshPrivateKey(back!).seed), Buffer.from(key.seed));
  const resolve = fake.calls.filter((c) => c.method === 'secrets.resolve');
  assert.equal(resolve.length, 1);
  assert.match(resolve[0]!.args[0] as string, /^op:\/\/[a-z0-9]{26}\/[a-z0-9]{26}\/private key\?ssh-format=openssh$/);
  assert.equal(await fresh.getPublic('hosts/web1/ssh_host_ed25519_key'), key.publicKey.split(' ').slice(0, 2).join(' '));
});

test('passwords are Password items with a concealed password field; updates reuse the item', async () => {
  const fake = new FakeOnePassword();
  const store = storeFor(fake);
  await store.put('hosts/web1/luks_passphrase', 'first-value-123');
  await store.put('hosts/web1/luks_passphrase', 'second-value-456');
  const creates = fake.calls.filter((c) => c.method === 'items.create');
  const puts = fake.calls.filter((c) => c.method === 'items.put');
  assert.equal(creates.length, 1);
  assert.equal(puts.length, 1);
  const params = creates[0]!.args[0] as { category: string; title: string; fields: { id: string; fieldType: string }[] };
  assert.equal(params.category, 'Password');
  assert.equal(params.title, 'web1 luks passphrase');
  assert.deepEqual(params.fields.map((f) => [f.id, f.fieldType]), [['password', 'Concealed']]);
  assert.equal(await storeFor(fake).get('hosts/web1/luks_passphrase'), 'second-value-456');
  assert.equal(store.refOf('storage/b2main/secret_access_key'), 'op://Infra/storage b2main secret access key/password');
});

test('each item is read at most once per run; the vault is listed once', async () => {
  const fake = new FakeOnePassword();
  await storeFor(fake).put('storage/b2/key', 'abcdef123');
  fake.calls.length = 0;
  const store = storeFor(fake);
  for (let i = 0; i < 3; i++) assert.equal(await store.get('storage/b2/key'), 'abcdef123');
  assert.equal(await store.get('storage/b2/missing'), undefined);
  const count = (m: string) => fake.calls.filter((c) => c.method === m).length;
  assert.deepEqual([count('vaults.list'), count('items.list'), count('items.get')], [1, 1, 1]);
});

test('ensureHostKeys through 1Password: the second run reuses everything and writes nothing', async () => {
  const fake = new FakeOnePassword();
  const first = await ensureHostKeys(storeFor(fake), 'web1', { luks: true });
  assert.deepEqual(first.actions.map((a) => a.action), ['create', 'create']);
  const writes = fake.writes;
  const second = await ensureHostKeys(storeFor(fake), 'web1', {});
  assert.deepEqual(second.actions.map((a) => a.action), ['reuse', 'reuse']);
  assert.equal(fake.writes, writes);
  assert.equal(second.keys.age.recipient, first.keys.age.recipient);
  const pub = await readHostPublicKeys(storeFor(fake), 'web1');
  assert.equal(pub.ssh.fingerprint, first.keys.ssh.fingerprint);
  assert.equal(pub.ssh.ref, 'op://Infra/web1 ssh host key/private key');
});

test('errors: wrong token, missing vault, rate limit, invalid category', async () => {
  const fake = new FakeOnePassword();
  await assert.rejects(storeFor(fake, 'ops_wrong').get('hosts/a/x'), (e: Error & { code: string; kind: string; hint: string }) => {
    assert.equal(e.code, 'op-auth-failed');
    assert.equal(e.kind, 'usage');
    assert.match(e.hint, /OP_SERVICE_ACCOUNT_TOKEN/);
    return true;
  });
  await assert.rejects(storeFor(fake, fake.validToken, 'Nope').get('hosts/a/x'), /1Password vault "Nope" not found \(the credentials can see: Infra\)/);
  fake.readLimit = fake.reads;
  await assert.rejects(storeFor(fake).get('hosts/a/x'), (e: Error & { code: string; kind: string }) => e.code === 'op-rate-limited' && e.kind === 'failure' && !e.message.includes('\n'));
  fake.readLimit = Infinity;
  const c = fake.client();
  await assert.rejects(c.items.create({ category: 'SSHKey', vaultId: fake.vaults[0]!.id, title: 't' }), /unknown item category/);
  await assert.rejects(c.items.create({ category: 'Password', vaultId: 'nope', title: 't' }), /resource not found/);
  assert.equal(await storeFor(fake).healthCheck().then((h) => h.kind), 'ok');
});

test('credentials: token required, token shape checked, desktop app detection explains NixOS', () => {
  assert.throws(() => planOnePasswordAuth({}, undefined), (e: Error & { code: string }) => e.code === 'op-token-missing');
  assert.throws(() => planOnePasswordAuth({ OP_SERVICE_ACCOUNT_TOKEN: 'not-a-token' }, undefined), /does not look like a service account token/);
  assert.deepEqual(planOnePasswordAuth({}, 'my-team'), { kind: 'desktop', account: 'my-team' });
  const problem = planDesktopAuthProblem(['/opt/1Password/libop_sdk_ipc_client.so'], () => false, true);
  assert.match(problem!.hint, /NixOS keeps the 1Password app in the Nix store/);
  assert.equal(planDesktopAuthProblem(['/x'], () => true, true), undefined);
  assert.equal(buildItemTitle('hosts/db-2/age_key'), 'db-2 age key');
});

const live = process.env.OP_SERVICE_ACCOUNT_TOKEN && process.env.OP_TEST_VAULT;
test('live 1Password round trip (needs OP_SERVICE_ACCOUNT_TOKEN and OP_TEST_VAULT)', { skip: live ? false : 'OP_SERVICE_ACCOUNT_TOKEN / OP_TEST_VAULT not set' }, async () => {
  const { createSdkClient } = await import('../src/secrets/onepassword-client.js');
  const store = new OnePasswordStore({ vault: process.env.OP_TEST_VAULT!, auth: { kind: 'token', token: process.env.OP_SERVICE_ACCOUNT_TOKEN! }, factory: createSdkClient });
  const host = `nbtest${Date.now().toString(36)}`;
  const { keys } = await ensureHostKeys(store, host, { luks: true });
  const fresh = new OnePasswordStore({ vault: process.env.OP_TEST_VAULT!, auth: { kind: 'token', token: process.env.OP_SERVICE_ACCOUNT_TOKEN! }, factory: createSdkClient });
  const back = parseOpenSshPrivateKey((await fresh.get(`hosts/${host}/ssh_host_ed25519_key`))!);
  assert.equal(back.fingerprint, keys.ssh.fingerprint);
  assert.equal(await fresh.get(`hosts/${host}/luks_passphrase`), keys.luks!.passphrase);
});

/**
 * Contract tests: what the onepassword backend sends the SDK (through the FAKE client in
 * test/fakes), how it reads back, how often it reads, and its error messages. A live test runs
 * against real 1Password only when OP_SERVICE_ACCOUNT_TOKEN and OP_TEST_VAULT are set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureHostKeys, readHostPublicKeys } from '../../src/keys/host-keys.js';
import { generateSshKeyPair, parseOpenSshPrivateKey } from '../../src/keys/ssh-key.js';
import { planDesktopAuthProblem } from '../../src/secrets/onepassword-client.js';
import { OnePasswordStore } from '../../src/secrets/onepassword.js';
import { buildItemTitle, buildPkcs8Pem } from '../../src/secrets/onepassword-items.js';
import { planOnePasswordAuth } from '../../src/secrets/open-store.js';
import { FakeOnePassword } from '../fakes/onepassword-sdk.js';

const sleeps: number[] = [];
function storeFor(fake: FakeOnePassword, token = fake.validToken, vault = 'Infra'): OnePasswordStore {
  return new OnePasswordStore({ vault, auth: { kind: 'token', token }, factory: fake.factory, sleep: async (ms) => void sleeps.push(ms) });
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

const WHERE = 'hosts/web1/bootstrap.toml [secrets] sshHostKey';

test('item titles with spaces: the recorded reference is one the manifest accepts', async () => {
  const { checkSecretRef } = await import('../../src/manifest/schema.js');
  const fake = new FakeOnePassword();
  const { keys } = await ensureHostKeys(storeFor(fake), 'web1', { luks: true });
  assert.equal(keys.ssh.ref, 'op://Infra/web1 ssh host key/private key');
  assert.equal(checkSecretRef(keys.ssh.ref), undefined);
  assert.equal(checkSecretRef(keys.luks!.ref), undefined);
});

test('a vault name references cannot hold is refused before any item is created', async () => {
  const fake = new FakeOnePassword(undefined, ['Infra & Ops']);
  await assert.rejects(ensureHostKeys(storeFor(fake, fake.validToken, 'Infra & Ops'), 'web1', { luks: true }), (e: Error & { code: string; hint: string }) => {
    assert.equal(e.code, 'bad-op-reference');
    assert.match(e.message, /vault name "Infra & Ops" has a character/);
    assert.match(e.hint, /vault's id/);
    return true;
  });
  assert.equal(fake.writes, 0);
  // The vault's id works: ids are plain letters and digits.
  const { keys } = await ensureHostKeys(storeFor(fake, fake.validToken, fake.vaults[0]!.id), 'web1', {});
  assert.equal(keys.ssh.ref, `op://${fake.vaults[0]!.id}/web1 ssh host key/private key`);
});

test('duplicate titles (the SDK allows them) are refused with a hint naming the item ids; nothing is written', async () => {
  const fake = new FakeOnePassword();
  const a = fake.addItem({ title: 'web1 ssh host key', category: 'Password', fields: [{ id: 'password', title: 'password', fieldType: 'Concealed', value: 'x1x1x1x1' }] });
  const b = fake.addItem({ title: 'WEB1 SSH host key', category: 'Password', fields: [{ id: 'password', title: 'password', fieldType: 'Concealed', value: 'x2x2x2x2' }] });
  // The fake, like the SDK, cannot resolve such a title.
  await assert.rejects(fake.client().secrets.resolve('op://Infra/web1 ssh host key/password'), /more than one item matched/);
  await assert.rejects(ensureHostKeys(storeFor(fake), 'web1', {}), (e: Error & { code: string; hint: string }) => {
    assert.equal(e.code, 'op-item-ambiguous');
    assert.ok(e.message.includes(a.id) && e.message.includes(b.id), e.message);
    assert.match(e.message, /has 2 items titled "web1 ssh host key"/);
    assert.ok(e.hint.includes(`op://Infra/${a.id}/private key`), e.hint);
    return true;
  });
  assert.equal(fake.writes, 0);
});

test('rate limits (HTTP 429): retried with doubling delays, bounded, then one clear error', async () => {
  const fake = new FakeOnePassword();
  await storeFor(fake).put('storage/b2/key', 'abcdef123');
  sleeps.length = 0;
  fake.rateLimited = 2;
  assert.equal(await storeFor(fake).get('storage/b2/key'), 'abcdef123');
  assert.deepEqual(sleeps, [1000, 2000]);
  sleeps.length = 0;
  fake.rateLimited = 100;
  await assert.rejects(storeFor(fake).get('storage/b2/key'), (e: Error & { code: string; kind: string; hint: string }) => {
    assert.equal(e.code, 'op-rate-limited');
    assert.match(e.message, /^1Password rate limit reached while listing vaults \(still limited after 4 retries\)$/);
    assert.match(e.hint, /wait, then run again/);
    return true;
  });
  assert.deepEqual(sleeps, [1000, 2000, 4000, 8000]);
});

test('an existing item is read and used instead of creating one', async () => {
  const fake = new FakeOnePassword();
  const key = generateSshKeyPair('root@web1');
  const item = fake.addItem({ title: 'web1 ssh', category: 'SshKey', fields: [{ id: 'private_key', title: 'private key', fieldType: 'SshKey', value: buildPkcs8Pem(key.privateKey) }] });
  const ref = 'op://infra/Web1 SSH/private key'; // names match case-insensitively, as in 1Password
  const { keys, actions } = await ensureHostKeys(storeFor(fake), 'web1', { sshKeyRef: { ref, where: WHERE } });
  assert.deepEqual(actions, [{ name: 'hosts/web1/ssh_host_ed25519_key', action: 'reuse', ref }]);
  assert.equal(keys.ssh.fingerprint, key.fingerprint);
  assert.equal(fake.writes, 0);
  const resolve = fake.calls.filter((c) => c.method === 'secrets.resolve').map((c) => c.args[0]);
  assert.deepEqual(resolve, [`op://${fake.vaults[0]!.id}/${item.id}/private_key?ssh-format=openssh`]);
  const pub = await readHostPublicKeys(storeFor(fake), 'web1', { ref, where: WHERE });
  assert.equal(pub.ssh.fingerprint, key.fingerprint);
  // By item id, in a section, from a concealed field holding OpenSSH text.
  const other = generateSshKeyPair('root@web2');
  const held = fake.addItem({ title: 'web2 keys', category: 'Password', sections: [{ id: 'sec1', title: 'Host' }], fields: [{ id: 'k', title: 'ssh key', sectionId: 'sec1', fieldType: 'Concealed', value: other.privateKey }, { id: 'p', title: 'public key', sectionId: 'sec1', fieldType: 'Text', value: other.publicKey }] });
  const r2 = await ensureHostKeys(storeFor(fake), 'web2', { sshKeyRef: { ref: `op://Infra/${held.id}/Host/ssh key`, where: WHERE } });
  assert.equal(r2.keys.ssh.fingerprint, other.fingerprint);
});

test('existing items: missing item or field, a wrong key, a mismatched public half — one line naming the reference', async () => {
  const fake = new FakeOnePassword();
  const key = generateSshKeyPair('root@web1');
  fake.addItem({ title: 'web1 ssh', category: 'SshKey', fields: [{ id: 'private_key', title: 'private key', fieldType: 'SshKey', value: buildPkcs8Pem(key.privateKey) }] });
  fake.addItem({ title: 'not a key', category: 'Password', fields: [{ id: 'password', title: 'password', fieldType: 'Concealed', value: 'hunter2hunter2' }] });
  fake.addItem({ title: 'mismatch', category: 'Password', fields: [{ id: 'k', title: 'key', fieldType: 'Concealed', value: key.privateKey }, { id: 'public', title: 'public', fieldType: 'Text', value: generateSshKeyPair('x').publicKey }] });
  const cases: [string, string, RegExp][] = [
    ['op://Infra/web9 ssh/private key', 'op-ref-missing', /^hosts\/web1\/bootstrap\.toml \[secrets\] sshHostKey: no item "web9 ssh" in 1Password vault Infra \("op:\/\/Infra\/web9 ssh\/private key"\)$/],
    // An SSH Key item's public key is readable by reference (issue 21, --login-key), but it is no host key.
    ['op://Infra/web1 ssh/public key', 'bad-ssh-key', /\(op:\/\/Infra\/web1 ssh\/public key\) is not a usable OpenSSH ed25519 private key/],
    ['op://Infra/web1 ssh/fingerprint', 'op-ref-missing', /1Password item "web1 ssh" has no field "fingerprint"/],
    ['op://Nope/web1 ssh/private key', 'op-vault-missing', /vault "Nope" not found/],
    ['op://Infra/not a key/password', 'bad-ssh-key', /\(op:\/\/Infra\/not a key\/password\) is not a usable OpenSSH ed25519 private key/],
    ['op://Infra/mismatch/key', 'ssh-key-mismatch', /the item's public key is not the public half of its private key/],
    ['op://Infra/web1\nssh/private key', 'bad-op-reference', /it must be one line/],
  ];
  for (const [ref, code, message] of cases) {
    await assert.rejects(ensureHostKeys(storeFor(fake), 'web1', { sshKeyRef: { ref, where: WHERE } }), (e: Error & { code: string; kind: string; hint: string }) => {
      assert.equal(e.code, code, `${ref}: ${e.message}`);
      assert.equal(e.kind, 'usage');
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n') && !e.message.includes('hunter2'), e.message);
      assert.ok(e.hint);
      return true;
    });
  }
  await assert.rejects(ensureHostKeys(storeFor(fake), 'web1', { rotate: true, sshKeyRef: { ref: 'op://Infra/web1 ssh/private key', where: WHERE } }), /bootstrap does not rotate it/);
  assert.equal(fake.writes, 0);
});

const live = process.env.OP_SERVICE_ACCOUNT_TOKEN && process.env.OP_TEST_VAULT;
test('live 1Password round trip (needs OP_SERVICE_ACCOUNT_TOKEN and OP_TEST_VAULT)', { skip: live ? false : 'OP_SERVICE_ACCOUNT_TOKEN / OP_TEST_VAULT not set' }, async () => {
  const { createSdkClient } = await import('../../src/secrets/onepassword-client.js');
  const store = new OnePasswordStore({ vault: process.env.OP_TEST_VAULT!, auth: { kind: 'token', token: process.env.OP_SERVICE_ACCOUNT_TOKEN! }, factory: createSdkClient });
  const host = `nbtest${Date.now().toString(36)}`;
  const { keys } = await ensureHostKeys(store, host, { luks: true });
  const fresh = new OnePasswordStore({ vault: process.env.OP_TEST_VAULT!, auth: { kind: 'token', token: process.env.OP_SERVICE_ACCOUNT_TOKEN! }, factory: createSdkClient });
  const back = parseOpenSshPrivateKey((await fresh.get(`hosts/${host}/ssh_host_ed25519_key`))!);
  assert.equal(back.fingerprint, keys.ssh.fingerprint);
  assert.equal(await fresh.get(`hosts/${host}/luks_passphrase`), keys.luks!.passphrase);
});

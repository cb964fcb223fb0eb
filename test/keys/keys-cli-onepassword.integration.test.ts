/**
 * `bootstrap keys ensure|show` through the real CLI with [secrets] store = "onepassword", against
 * the strict FAKE 1Password SDK (NB_ONEPASSWORD_SDK → test/fakes/onepassword-sdk-module.ts, its
 * state in a JSON file between runs). Issue 11: item titles with spaces, existing items, duplicate
 * titles, rate limits, bad references that must create nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../src/keys/ssh-key.js';
import { buildPkcs8Pem } from '../../src/secrets/onepassword-items.js';
import { FakeOnePassword } from '../fakes/onepassword-sdk.js';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

interface Setup {
  flake: string;
  env: Record<string, string>;
  state: string;
  fake: () => FakeOnePassword;
}

async function setup(tmp: string, extraToml = '', vault = 'Infra'): Promise<Setup> {
  const flake = join(tmp, 'flake');
  await mkdir(flake, { recursive: true });
  await writeFile(join(flake, 'bootstrap.toml'), `[secrets]\nstore = "onepassword"\n[secrets.onepassword]\nvault = "${vault}"\n[sops]\nmode = "none"\n${extraToml}`);
  const state = join(tmp, 'op-state.json');
  const fake = new FakeOnePassword(undefined, [vault]);
  fake.stateFile = state;
  fake.save();
  return {
    flake,
    state,
    fake: () => FakeOnePassword.load(state),
    env: { NB_ONEPASSWORD_SDK: join(REPO_ROOT, 'test/fakes/onepassword-sdk-module.ts'), NB_FAKE_OP_STATE: state, OP_SERVICE_ACCOUNT_TOKEN: fake.validToken, HOME: join(tmp, 'home') },
  };
}

function assertOneLineError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('error:')).length, 1, r.stderr);
  assert.ok(lines.length <= 2, r.stderr);
  assert.match(lines[0]!, pattern);
}

test('store = onepassword: a host whose item titles have spaces goes through keys ensure and keys show', async () => {
  await withTempDir(async (tmp) => {
    const s = await setup(tmp);
    const ensure = await runCli(['keys', 'ensure', 'web1', '--luks', '--json', '--flake', s.flake], { env: s.env });
    assert.equal(ensure.code, 0, ensure.stderr);
    const j = JSON.parse(ensure.stdout);
    assert.equal(j.ssh.ref, 'op://Infra/web1 ssh host key/private key');
    assert.deepEqual(j.actions.map((a: { action: string; ref: string }) => [a.action, a.ref]), [['create', 'op://Infra/web1 ssh host key/private key'], ['create', 'op://Infra/web1 luks passphrase/password']]);
    assert.deepEqual([...s.fake().items.values()].map((i) => i.title).sort(), ['web1 luks passphrase', 'web1 ssh host key']);

    // Rate limited once (HTTP 429): retried after a second, then it works.
    const f = s.fake();
    f.rateLimited = 1;
    f.save();
    const show = await runCli(['keys', 'show', 'web1', '--json', '--flake', s.flake], { env: s.env });
    assert.equal(show.code, 0, show.stderr);
    assert.equal(JSON.parse(show.stdout).ssh.fingerprint, j.ssh.fingerprint);
    assert.equal(s.fake().rateLimited, 0);

    const again = await runCli(['keys', 'ensure', 'web1', '--json', '--flake', s.flake], { env: s.env });
    assert.deepEqual(JSON.parse(again.stdout).actions.map((a: { action: string }) => a.action), ['reuse', 'reuse']);
    for (const o of [ensure, show, again]) assert.ok(!(o.stdout + o.stderr).includes(s.env.OP_SERVICE_ACCOUNT_TOKEN!), 'the token leaked');
  });
});

test('an existing item named in bootstrap.toml is used instead of creating one', async () => {
  await withTempDir(async (tmp) => {
    const s = await setup(tmp, '[secrets.hosts.web2]\nsshHostKey = "op://Infra/web2 ssh/private key"\n');
    const key = generateSshKeyPair('root@web2');
    const f = s.fake();
    f.addItem({ title: 'web2 ssh', category: 'SshKey', fields: [{ id: 'private_key', title: 'private key', fieldType: 'SshKey', value: buildPkcs8Pem(key.privateKey) }] });
    const r = await runCli(['keys', 'ensure', 'web2', '--json', '--flake', s.flake], { env: s.env });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.actions, [{ name: 'hosts/web2/ssh_host_ed25519_key', action: 'reuse', ref: 'op://Infra/web2 ssh/private key' }]);
    assert.equal(j.ssh.fingerprint, key.fingerprint);
    assert.equal(s.fake().items.size, 1);
    assert.ok(!s.fake().calls.some((c) => c.method === 'items.create'));
    const show = await runCli(['keys', 'show', 'web2', '--json', '--flake', s.flake], { env: s.env });
    assert.equal(JSON.parse(show.stdout).ssh.ref, 'op://Infra/web2 ssh/private key');

    // The item is gone: one line naming the reference and the setting.
    const empty = await setup(join(tmp, 'b'), '[secrets.hosts.web2]\nsshHostKey = "op://Infra/web2 ssh/private key"\n');
    assertOneLineError(await runCli(['keys', 'ensure', 'web2', '--flake', empty.flake], { env: empty.env }), 2, /bootstrap\.toml \[secrets\.hosts\.web2\] sshHostKey: no item "web2 ssh" in 1Password vault Infra \("op:\/\/Infra\/web2 ssh\/private key"\)/);
    assert.equal(empty.fake().items.size, 0);
  });
});

test('duplicate titles are refused with the item ids; bad references and vault names create nothing', async () => {
  await withTempDir(async (tmp) => {
    const s = await setup(tmp);
    const f = s.fake();
    const a = f.addItem({ title: 'web3 ssh host key', category: 'Password', fields: [{ id: 'password', title: 'password', fieldType: 'Concealed', value: 'aaaaaaaa1' }] });
    const b = f.addItem({ title: 'web3 ssh host key', category: 'Password', fields: [{ id: 'password', title: 'password', fieldType: 'Concealed', value: 'bbbbbbbb2' }] });
    const dup = await runCli(['keys', 'ensure', 'web3', '--flake', s.flake], { env: s.env });
    assertOneLineError(dup, 2, new RegExp(`has 2 items titled "web3 ssh host key" \\(ids ${a.id}, ${b.id}\\)`));
    assert.match(dup.stderr, new RegExp(`op://Infra/${a.id}/private key`));
    assert.equal(s.fake().items.size, 2);

    const bad = await setup(join(tmp, 'bad'), '[secrets.hosts.web4]\nsshHostKey = "op://Infra/web4@old/private key"\n');
    assertOneLineError(await runCli(['keys', 'ensure', 'web4', '--flake', bad.flake], { env: bad.env }), 2, /secrets\.hosts\.web4\.sshHostKey: "op:\/\/Infra\/web4@old\/private key" is not a 1Password secret reference: the item name "web4@old" has a character/);
    assert.equal(bad.fake().items.size, 0);

    const vault = await setup(join(tmp, 'vault'), '', 'Infra & Ops');
    assertOneLineError(await runCli(['keys', 'ensure', 'web5', '--luks', '--flake', vault.flake], { env: vault.env }), 2, /vault name "Infra & Ops" has a character/);
    assert.equal(vault.fake().items.size, 0);
    assert.ok(!vault.fake().calls.some((c) => c.method === 'items.create'));
  });
});

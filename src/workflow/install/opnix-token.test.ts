import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../../test/helpers/tmp.js';
import { FakeOnePassword } from '../../../test/fakes/onepassword-sdk.js';
import { ConfigSchema } from '../../config/schema.js';
import { buildExtraFilesPlan, writeExtraFiles } from '../../installer/extra-files.js';
import { redact } from '../../redact.js';
import { OnePasswordStore } from '../../secrets/onepassword.js';
import type { InstallCtx } from './context.js';
import { detectOpnix, planOpnixToken, readOpnixTokenFile } from './opnix-token.js';
import { buildExtraFilesInput } from './run-install.js';

const FLAKE = `{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    opnix.url = "github:brizzbuzz/opnix";
  };
  outputs = { nixpkgs, opnix, ... }: { };
}
`;
const op = (onepassword: Record<string, unknown> = {}) => ConfigSchema.parse({ secrets: { store: 'onepassword', onepassword: { vault: 'Infra', ...onepassword } }, sops: { mode: 'none' } });

test('OpNix is detected in flake.nix, and configured explicitly', () => {
  assert.equal(detectOpnix(FLAKE), true);
  assert.equal(detectOpnix('{ inputs.opnix = { url = "github:me/fork"; }; }'), true);
  assert.equal(detectOpnix('{ modules = [ inputs.opnix.nixosModules.default ]; }'), true);
  assert.equal(detectOpnix('{\n  # opnix.url = "github:brizzbuzz/opnix";\n  inputs.nixpkgs.url = "…";\n}'), false);
  assert.equal(detectOpnix('{ inputs.agenix.url = "github:ryantm/agenix"; }'), false);
  assert.deepEqual(planOpnixToken(op().secrets, FLAKE), { path: '/etc/opnix-token' });
  assert.equal(planOpnixToken(op().secrets, '{ }'), undefined);
  assert.equal(planOpnixToken(op({ opnix: false }).secrets, FLAKE), undefined);
  assert.deepEqual(planOpnixToken(op({ opnix: true, opnixTokenPath: '/run/keys/op' }).secrets, undefined), { path: '/run/keys/op' });
  assert.equal(planOpnixToken(ConfigSchema.parse({}).secrets, FLAKE), undefined); // the local vault: no token
  assert.throws(() => op({ opnixTokenPath: 'etc/opnix-token' }), /absolute file path/);
});

test('the install hands the service account token to an OpNix host: 0600 at the configured path, never in output', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'flake.nix'), FLAKE);
    const fake = new FakeOnePassword('ops_fake_opnix_token_value_1234567890');
    const store = new OnePasswordStore({ vault: 'Infra', auth: { kind: 'token', token: fake.validToken }, factory: fake.factory });
    const loaded = { flakeDir: dir, file: join(dir, 'bootstrap.toml'), exists: true, config: op() };
    const c = { plan: { layout: { encrypted: false } }, loaded, identity: 'copy-target-keys', host: 'web1', store: async () => store, keys: async () => assert.fail('no keys with --copy-host-keys') } as unknown as InstallCtx;
    const input = await buildExtraFilesInput(c);
    assert.deepEqual(input.secretFiles, [{ path: '/etc/opnix-token', content: `${fake.validToken}\n` }]);
    const plan = buildExtraFilesPlan(input);
    assert.deepEqual(plan.files.map((f) => [f.path, f.mode]), [['extra-files/etc/opnix-token', 0o600]]);
    await mkdir(join(dir, 'secret'), { mode: 0o700 });
    const written = await writeExtraFiles(join(dir, 'secret'), input);
    const file = join(written.extraFilesDir, 'etc/opnix-token');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readFile(file, 'utf8'), `${fake.validToken}\n`);
    assert.ok(!redact(`token: ${fake.validToken}; ${JSON.stringify(input)}`).includes(fake.validToken));

    // A token for the hosts from a 1Password item, at a path of the user's choosing.
    fake.addItem({ title: 'opnix hosts', category: 'ApiCredentials', fields: [{ id: 'credential', title: 'credential', fieldType: 'Concealed', value: 'ops_host_readonly_token_abcdef123456' }] });
    const custom = { ...loaded, config: op({ opnixTokenPath: '/var/lib/opnix/token', opnixToken: 'op://Infra/opnix hosts/credential' }) };
    const fresh = new OnePasswordStore({ vault: 'Infra', auth: { kind: 'token', token: fake.validToken }, factory: fake.factory });
    assert.deepEqual(await readOpnixTokenFile(custom, fresh), { path: '/var/lib/opnix/token', content: 'ops_host_readonly_token_abcdef123456\n' });
    assert.ok(!redact('ops_host_readonly_token_abcdef123456').includes('readonly'));

    // Desktop-app sign-in has no token to hand over: a clear usage error.
    const desktop = new OnePasswordStore({ vault: 'Infra', auth: { kind: 'desktop', account: 'team' }, factory: fake.factory });
    await assert.rejects(readOpnixTokenFile(loaded, desktop), (e: Error & { code: string }) => e.code === 'opnix-no-token');
  });
});

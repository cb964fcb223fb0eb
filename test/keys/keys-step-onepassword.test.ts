/**
 * The install's `keys` step with [secrets] store = "onepassword" (issue 11): the reference it
 * records in the host manifest has spaces ("web1 ssh host key") and must be accepted; a reference
 * that cannot be recorded is refused before any item exists, so the run resumes cleanly once the
 * config is fixed. The FAKE SDK stands in for 1Password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { buildManifestToml, readManifest } from '../../src/manifest/manifest.js';
import { OnePasswordStore } from '../../src/secrets/onepassword.js';
import { keysStep } from '../../src/workflow/install/steps-prepare.js';
import type { InstallCtx } from '../../src/workflow/install/context.js';
import { FakeOnePassword } from '../fakes/onepassword-sdk.js';
import { withTempDir } from '../helpers/tmp.js';

async function runKeysStep(flake: string, fake: FakeOnePassword): Promise<void> {
  const loaded = await loadConfig(flake);
  const store = new OnePasswordStore({ vault: loaded.config.secrets.onepassword!.vault, auth: { kind: 'token', token: fake.validToken }, factory: fake.factory });
  const c = { app: { run: async () => ({}), signal: new AbortController().signal }, loaded, host: 'web1', flakeDir: flake, identity: 'provisioned', plan: { layout: { encrypted: true } }, store: async () => store } as unknown as InstallCtx;
  await keysStep.run(c, { update: () => {} } as never);
}

test('keys step: a 1Password reference with spaces is recorded; a bad one creates nothing and a fixed run resumes', async () => {
  await withTempDir(async (flake) => {
    const toml = (vault: string) => `[secrets]\nstore = "onepassword"\n[secrets.onepassword]\nvault = "${vault}"\n[sops]\nmode = "none"\n`;
    await writeFile(join(flake, 'bootstrap.toml'), toml('Infra & Ops'));
    await mkdir(join(flake, 'hosts/web1'), { recursive: true });
    const manifest = buildManifestToml({ version: 1, host: 'web1', profile: 'generic', layout: { name: 'single-ext4', encrypt: true }, installDisk: { path: '/dev/vda', sizeBytes: 1e10 } });
    await writeFile(join(flake, 'hosts/web1/bootstrap.toml'), manifest);
    const fake = new FakeOnePassword(undefined, ['Infra & Ops']);

    await assert.rejects(runKeysStep(flake, fake), (e: Error & { code: string }) => e.code === 'bad-op-reference' && /vault name "Infra & Ops"/.test(e.message));
    assert.equal(fake.items.size, 0);
    assert.equal(await readFile(join(flake, 'hosts/web1/bootstrap.toml'), 'utf8'), manifest);

    // Fixed config (the vault's id), same run resumed at `keys`.
    await writeFile(join(flake, 'bootstrap.toml'), toml(fake.vaults[0]!.id));
    await runKeysStep(flake, fake);
    const secrets = (await readManifest(flake, 'web1')).secrets!;
    assert.deepEqual(secrets, { sshHostKey: `op://${fake.vaults[0]!.id}/web1 ssh host key/private key`, luksPassphrase: `op://${fake.vaults[0]!.id}/web1 luks passphrase/password` });

    // The same with a plain vault name: the spaces in item titles are fine (the original bug).
    const fake2 = new FakeOnePassword();
    await writeFile(join(flake, 'bootstrap.toml'), toml('Infra'));
    await writeFile(join(flake, 'hosts/web1/bootstrap.toml'), manifest);
    await runKeysStep(flake, fake2);
    assert.equal((await readManifest(flake, 'web1')).secrets!.sshHostKey, 'op://Infra/web1 ssh host key/private key');
    // A second run reuses the items and records the same references.
    await runKeysStep(flake, fake2);
    assert.equal(fake2.items.size, 2);
  });
});

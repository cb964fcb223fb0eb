/**
 * What the installer's --extra-files tree gets from the store (issue 11): the independent admin age
 * key at [sops] separateKeyPath, per host or shared by the fleet, for provisioned installs AND for
 * --copy-host-keys ones (which used to skip it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from '../../config/schema.js';
import type { LoadedConfig } from '../../config/load.js';
import { isBootstrapError } from '../../errors.js';
import { ensureHostKeys, ensureSeparateAgeKey, SHARED_ADMIN_AGE_NAME } from '../../keys/host-keys.js';
import type { SecretStore } from '../../secrets/store.js';
import { MemorySecretStore } from '../../../test/fakes/memory-store.js';
import { buildExtraFilesPlan } from '../../installer/extra-files.js';
import { buildKeyOptions, buildSeparateKeyOptions, type IdentityMode, type InstallCtx } from './context.js';
import { buildExtraFilesInput } from './run-install.js';

const PATH = '/var/lib/sops-nix/admin-key.txt';

/** The in-memory store with local-vault-shaped references (the kind a host manifest records). */
class Store extends MemorySecretStore {
  override refOf(name: string): string {
    return `local:secrets/bootstrap/${name}.age`;
  }
}

function loadedWith(sops: Record<string, unknown>): LoadedConfig {
  return { flakeDir: '/nonexistent', file: '/nonexistent/bootstrap.toml', exists: true, config: ConfigSchema.parse({ sops }) };
}

function ctxFor(store: MemorySecretStore, loaded: LoadedConfig, host: string, identity: IdentityMode): Parameters<typeof buildExtraFilesInput>[0] {
  const plan = { layout: { encrypted: false } } as InstallCtx['plan'];
  const c = { plan, loaded, host, identity, store: async () => store as SecretStore };
  return { ...c, keys: async () => (await ensureHostKeys(store, host, buildKeyOptions(c))).keys };
}

const adminKeyFile = (input: Awaited<ReturnType<typeof buildExtraFilesInput>>) => input.secretFiles?.find((f) => f.path === PATH);

test('buildSeparateKeyOptions: shared only together with a path', () => {
  assert.deepEqual(buildSeparateKeyOptions({}), { separateAgeKey: false, sharedAgeKey: false });
  assert.deepEqual(buildSeparateKeyOptions({ separateKeyPath: PATH }), { separateAgeKey: true, sharedAgeKey: false });
  assert.deepEqual(buildSeparateKeyOptions({ separateKeyPath: PATH, separateKeyShared: true }), { separateAgeKey: true, sharedAgeKey: true });
  assert.deepEqual(buildSeparateKeyOptions({ separateKeyShared: true }), { separateAgeKey: false, sharedAgeKey: false });
  assert.throws(() => ConfigSchema.parse({ sops: { separateKeyShared: true } }), /separateKeyShared = true needs separateKeyPath/);
});

test('the shared admin key is delivered to every host, provisioned and --copy-host-keys alike', async () => {
  const store = new Store();
  const loaded = loadedWith({ separateKeyPath: PATH, separateKeyShared: true });
  const web1 = await buildExtraFilesInput(ctxFor(store, loaded, 'web1', 'provisioned'));
  const shared = store.values.get(SHARED_ADMIN_AGE_NAME)!;
  assert.match(shared, /^AGE-SECRET-KEY-1/);
  assert.deepEqual(adminKeyFile(web1), { path: PATH, content: `${shared}\n` });
  assert.ok(web1.hostKey, 'the provisioned host key travels too');

  const web2 = await buildExtraFilesInput(ctxFor(store, loaded, 'web2', 'copy-target-keys'));
  assert.deepEqual(adminKeyFile(web2), { path: PATH, content: `${shared}\n` }, 'copy-host-keys delivers it as well');
  assert.equal(web2.hostKey, undefined, 'the target keeps its own host key');
  assert.equal(web2.ageKey, undefined);
  assert.ok(![...store.values.keys()].some((k) => k.endsWith('/age_key')), 'no per-host key was made');
  // The tree the installer copies holds it at the configured path, 0600.
  const tree = buildExtraFilesPlan(web2);
  assert.ok(tree.files.some((f) => f.path.endsWith(PATH) && f.mode === 0o600 && f.content === `${shared}\n`));
});

test('the per-host separate key is delivered with --copy-host-keys too; a missing one is an error, not a silent skip', async () => {
  const store = new Store();
  const loaded = loadedWith({ separateKeyPath: PATH });
  const c = ctxFor(store, loaded, 'web3', 'copy-target-keys');
  await assert.rejects(buildExtraFilesInput(c), (e: unknown) => isBootstrapError(e) && e.code === 'no-separate-age-key');
  // The keys step makes it for copy-target-keys installs (ensureSeparateAgeKey), then it travels.
  const { key } = await ensureSeparateAgeKey(store, 'web3', buildSeparateKeyOptions(loaded.config.sops));
  assert.equal(store.values.get('hosts/web3/age_key'), key.identity);
  assert.deepEqual(adminKeyFile(await buildExtraFilesInput(c)), { path: PATH, content: `${key.identity}\n` });
  // Without separateKeyPath nothing extra is delivered.
  const plain = await buildExtraFilesInput(ctxFor(new Store(), loadedWith({}), 'web4', 'copy-target-keys'));
  assert.equal(plain.secretFiles, undefined);
});

test('ensureHostKeys with a shared key: one key for all hosts, never rotated by a host --rotate', async () => {
  const store = new Store();
  const opts = { separateAgeKey: true, sharedAgeKey: true };
  const a = await ensureHostKeys(store, 'web1', opts);
  const b = await ensureHostKeys(store, 'web2', { ...opts, rotate: true });
  assert.equal(a.keys.separateAge!.identity, b.keys.separateAge!.identity);
  assert.equal(b.keys.separateAge!.shared, true);
  assert.deepEqual(b.actions.find((x) => x.name === SHARED_ADMIN_AGE_NAME)?.action, 'reuse');
});

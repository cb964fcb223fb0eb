/**
 * cache setup + cache create against s3rver and a FAKE atticd that checks our tokens with jose;
 * the rendered attic.nix and cache.nix evaluated with real nix-instantiate; a leak scan.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { jwtVerify } from 'jose';
import { loadConfig } from '../../src/config/load.js';
import { runCreateCache } from '../../src/storage/attic-api.js';
import { ATTIC_CLAIM, publicKeyPem, signingKeyFromPem } from '../../src/storage/attic-tokens.js';
import { runCacheCreate } from '../../src/workflow/storage/cache-create.js';
import { runCacheSetup } from '../../src/workflow/storage/cache-setup.js';
import { isBootstrapError } from '../../src/errors.js';
import { MemorySecretStore } from '../fakes/memory-store.js';
import { startAtticFake, type AtticFake } from '../fakes/attic-server.js';
import { evalModuleJson } from '../helpers/nix.js';
import { startS3rver, type LocalS3 } from '../helpers/s3.js';
import { makeTempDir } from '../helpers/tmp.js';
import { assertNoLeak, captureCtx } from './capture.js';

const SECRET = 'leakcanary-attic-7d1e55aa';

describe('attic cache on s3rver with a fake atticd', () => {
  let s3: LocalS3;
  let attic: AtticFake | undefined;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    s3 = await startS3rver();
    tmp = await makeTempDir('nb-cache-');
  });
  after(async () => {
    await attic?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it('sets up atticd, mints verifiable tokens, creates the cache and renders the clients', async () => {
    const flake = join(tmp.dir, 'flake');
    await mkdir(flake, { recursive: true });
    await writeFile(join(flake, 'bootstrap.toml'), [
      '[storage.s3l]', 'provider = "custom"', `endpoint = "${s3.endpoint}"`, 'bucket = "fleet-cache"', 'region = "us-east-1"',
      '[cache]', 'server = "cache1"', 'name = "main"', 'url = "https://cache.example.org/"',
    ].join('\n'));
    const loaded = await loadConfig(flake);
    const store = new MemorySecretStore({ 'storage/s3l/access-key-id': 'S3RVER', 'storage/s3l/secret-access-key': ` ${SECRET}\n` });
    const ctx = captureCtx();

    // --dry-run: the plan is printed, nothing is written, no secret is made.
    await runCacheSetup(ctx, loaded, store, { server: 'cache1', dryRun: true, createBucket: true, setLifecycle: false, secretsMode: 'sops', keyBits: 2048 });
    assert.equal(store.values.size, 2);
    assert.match(ctx.text(), /would create hosts\/cache1\/attic.nix/);

    const r = await runCacheSetup(ctx, loaded, store, { server: 'cache1', dryRun: false, createBucket: true, setLifecycle: true, secretsMode: 'sops', keyBits: 2048 });
    assert.deepEqual(r.files, ['hosts/cache1/attic.nix']);
    const key = signingKeyFromPem(store.values.get('attic/cache1/token-rs256-key')!);
    assert.match(key.pem, /^-----BEGIN RSA PRIVATE KEY-----/, 'PKCS#1 PEM as atticd wants');
    const env = store.values.get('hosts/cache1/attic-env')!;
    assert.ok(env.includes(`ATTIC_SERVER_TOKEN_RS256_SECRET_BASE64=${key.base64}\n`));
    assert.ok(env.includes(`AWS_SECRET_ACCESS_KEY=${SECRET}\n`), 'the secret is trimmed');
    assert.ok(env.includes('AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED\nAWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED\n'));

    // Tokens verify with the public key and carry attic's claims.
    const pub = createPublicKey(publicKeyPem(key));
    const tokens: Record<string, string> = {};
    for (const role of ['admin', 'push', 'pull']) {
      tokens[role] = store.values.get(`attic/cache1/${role}-token`)!;
      const { payload } = await jwtVerify(tokens[role]!, pub, { algorithms: ['RS256'] });
      assert.equal(payload.sub, `bootstrap-${role}`);
      assert.ok(typeof payload.exp === 'number' && payload.exp > Date.now() / 1000 + 3600 * 24 * 365);
      const caches = (payload[ATTIC_CLAIM] as { caches: Record<string, Record<string, number>> }).caches;
      if (role === 'admin') assert.deepEqual(caches['*'], { r: 1, w: 1, d: 1, cc: 1, cr: 1, cq: 1, cd: 1 });
      if (role === 'push') assert.deepEqual(caches, { main: { r: 1, w: 1 } });
      if (role === 'pull') assert.deepEqual(caches, { main: { r: 1 } });
    }

    // A second setup keeps the key and the tokens.
    await runCacheSetup(ctx, loaded, store, { server: 'cache1', dryRun: false, createBucket: false, setLifecycle: false, secretsMode: 'sops', keyBits: 2048 });
    assert.equal(store.values.get('attic/cache1/admin-token'), tokens.admin);

    const atticNix = await readFile(join(flake, 'hosts/cache1/attic.nix'), 'utf8');
    const server = (await evalModuleJson(atticNix, '{ config = { sops.secrets."attic-env".path = "/run/secrets/attic-env"; }; options = { services.atticd.environmentFile = { }; }; }')) as {
      services: { atticd: { enable: boolean; environmentFile: string; settings: Record<string, any> } }; sops: { secrets: Record<string, unknown> };
    };
    const a = server.services.atticd;
    assert.equal(a.enable, true);
    assert.equal(a.environmentFile, '/run/secrets/attic-env');
    assert.deepEqual(a.settings.storage, { type: 's3', bucket: 'fleet-cache', region: 'us-east-1', endpoint: s3.endpoint });
    assert.equal(a.settings['api-endpoint'], 'https://cache.example.org/');
    assert.equal(a.settings.chunking['nar-size-threshold'], 65536);
    assert.equal(a.settings.compression.type, 'zstd');
    assert.match(a.settings.database.url, /^sqlite:\/\//);
    assert.equal(a.settings['garbage-collection'].interval, '12 hours');
    assert.deepEqual(server.sops.secrets, { 'attic-env': {} });

    // cache create against the fake atticd (which verifies the admin token).
    attic = await startAtticFake(publicKeyPem(key));
    const fetchImpl = (u: string, init: Parameters<typeof fetch>[1]) => fetch(u, init);
    const created = await runCacheCreate(ctx, loaded, store, { name: 'main', serverUrl: attic.url, hosts: ['web1'], secretsMode: 'sops', dryRun: false, fetch: fetchImpl });
    assert.equal(created.cache.created, true);
    assert.equal(created.cache.publicKey, attic.caches.get('main')!.publicKey);
    assert.equal(attic.caches.get('main')!.isPublic, false);
    const again = await runCacheCreate(ctx, loaded, store, { name: 'main', serverUrl: attic.url, hosts: ['web1'], secretsMode: 'sops', dryRun: false, fetch: fetchImpl });
    assert.equal(again.cache.created, false, 'an existing cache is success');
    assert.deepEqual(attic.log.map((l) => `${l.method} ${l.status} ${l.sub}`), [
      'POST 200 bootstrap-admin', 'GET 200 bootstrap-admin', 'POST 400 bootstrap-admin', 'PATCH 200 bootstrap-admin', 'GET 200 bootstrap-admin',
    ]);
    // The pull token cannot create caches: the fake enforces attic's permissions.
    await assert.rejects(runCreateCache(fetchImpl, { serverUrl: attic.url, cache: 'other', token: tokens.pull!, isPublic: false }),
      (e: unknown) => isBootstrapError(e) && e.code === 'attic-api-error' && /403/.test(e.message));

    const netrc = store.values.get('hosts/web1/attic-netrc')!;
    assert.equal(netrc, `machine 127.0.0.1\npassword ${tokens.pull}\n`);
    const cacheNix = await readFile(join(flake, 'hosts/web1/cache.nix'), 'utf8');
    const client = (await evalModuleJson(cacheNix, '{ config = { sops.secrets."attic-netrc".path = "/run/secrets/attic-netrc"; }; }')) as { nix: { settings: Record<string, unknown> } };
    assert.deepEqual(client.nix.settings, {
      substituters: [`${attic.url}main`],
      'trusted-public-keys': [created.cache.publicKey],
      'netrc-file': '/run/secrets/attic-netrc',
    });

    // Leak scan: output and rendered files hold references only.
    const secrets = [SECRET, key.base64, ...Object.values(tokens), key.pem.split('\n')[1]!];
    assertNoLeak(ctx.text(), secrets, 'output');
    assertNoLeak(atticNix, secrets, 'attic.nix');
    assertNoLeak(cacheNix, secrets, 'cache.nix');
    assert.match(ctx.text(), /memory:attic\/cache1\/admin-token/, 'references are printed instead');
  });
});

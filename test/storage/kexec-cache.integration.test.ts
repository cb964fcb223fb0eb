/**
 * The kexec image in the fleet storage (issue 20, item 3): `cache kexec-image put` against s3rver,
 * content-addressed, kept when there; the presigned GET the target downloads with reads that
 * object, and its signature is the one S3 computes (s3rver does not check SigV4 signatures).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { buildPresignedGetUrl, resolveKexecStorage, runPutKexecImage } from '../../src/workflow/install/kexec-cache.js';
import { isBootstrapError } from '../../src/errors.js';
import { MemorySecretStore } from '../fakes/memory-store.js';
import { startS3rver, type LocalS3 } from '../helpers/s3.js';
import { makeTempDir } from '../helpers/tmp.js';
import { captureCtx } from './capture.js';

/**
 * What S3 does with a presigned GET (s3rver does not): recompute its SigV4 query signature from the
 * URL as received (AWS's "Authenticating Requests: Using Query Parameters": the canonical request
 * of the signed headers, here host, with an UNSIGNED-PAYLOAD body) and compare. Returns the scope.
 */
function verifyPresigned(url: string, secret: string): { scope: string; expires: string } {
  const u = new URL(url);
  const q = [...u.searchParams.entries()];
  const sig = u.searchParams.get('X-Amz-Signature');
  assert.equal(u.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
  assert.equal(u.searchParams.get('X-Amz-SignedHeaders'), 'host');
  const enc = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = q.filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => [enc(k), enc(v)]).sort(([a], [b]) => (a! < b! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalRequest = ['GET', u.pathname, query, `host:${u.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const date = u.searchParams.get('X-Amz-Date')!;
  const scope = u.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const [day, region] = scope.split('/');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), 's3'), 'aws4_request');
  assert.equal(sig, createHmac('sha256', key).update(toSign).digest('hex'), 'the signature S3 would compute');
  return { scope, expires: u.searchParams.get('X-Amz-Expires')! };
}

describe('kexec image in the fleet storage (s3rver)', () => {
  let s3: LocalS3;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    s3 = await startS3rver();
    tmp = await makeTempDir('nb-kexec-cache-');
  });
  after(async () => {
    await s3?.close();
    await tmp?.cleanup();
  });

  it('put stores it under its sha256 once; the presigned GET reads it and is signed as the AWS SDK signs it (path-style and virtual-host)', async () => {
    const flake = join(tmp.dir, 'flake');
    await mkdir(flake, { recursive: true });
    await writeFile(join(flake, 'bootstrap.toml'), ['[storage.s3l]', 'provider = "custom"', `endpoint = "${s3.endpoint}"`, 'bucket = "fleet-cache"', 'region = "us-east-1"', '[cache]', 'server = "cache1"'].join('\n'));
    const loaded = await loadConfig(flake);
    const store = new MemorySecretStore({ 'storage/s3l/access-key-id': 'S3RVER', 'storage/s3l/secret-access-key': 'S3RVER' });
    const ctx = captureCtx();
    const s = resolveKexecStorage(loaded);
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const admin = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await admin.send(new CreateBucketCommand({ Bucket: 'fleet-cache' }));
    admin.destroy();

    const image = join(tmp.dir, 'nixos-kexec-installer.tar.gz');
    const content = Buffer.from(`kexec image ${'x'.repeat(100_000)}`);
    await writeFile(image, content);
    const sha = createHash('sha256').update(content).digest('hex');
    const r1 = await runPutKexecImage(ctx, loaded, store, image);
    assert.deepEqual(r1, { storage: 's3l', bucket: 'fleet-cache', key: `kexec-images/${sha}.tar.gz`, sha256: sha, bytes: content.length, uploaded: true });
    const r2 = await runPutKexecImage(ctx, loaded, store, image);
    assert.equal(r2.uploaded, false, 'already there under its hash: kept');

    const now = new Date();
    const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const url = await buildPresignedGetUrl(s, creds, r1.key, now, 600);
    assert.ok(url.startsWith(`${s3.endpoint}/fleet-cache/kexec-images/${sha}.tar.gz?`), url);
    const got = await fetch(url);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), content);
    // s3rver does not check SigV4 signatures: the signature is checked as S3 checks it.
    const day = now.toISOString().slice(0, 10).replace(/-/g, '');
    assert.deepEqual(verifyPresigned(url, 'S3RVER'), { scope: `${day}/us-east-1/s3/aws4_request`, expires: '600' });
    assert.throws(() => verifyPresigned(url.replace('X-Amz-Expires=600', 'X-Amz-Expires=6000'), 'S3RVER'), /the signature S3 would compute/, 'a changed parameter breaks it');
    // Virtual-host style and the region of the storage entry (B2).
    const virtualHost = await buildPresignedGetUrl({ ...s, forcePathStyle: false, endpoint: 'https://s3.eu-central-003.backblazeb2.com', region: 'eu-central-003' }, creds, r1.key, now, 600);
    assert.ok(virtualHost.startsWith(`https://fleet-cache.s3.eu-central-003.backblazeb2.com/kexec-images/${sha}.tar.gz?`), virtualHost);
    assert.deepEqual(verifyPresigned(virtualHost, 'S3RVER'), { scope: `${day}/eu-central-003/s3/aws4_request`, expires: '600' });

    await assert.rejects(runPutKexecImage(ctx, loaded, store, join(tmp.dir, 'missing.tar.gz')), (e) => isBootstrapError(e) && /is not a file/.test(e.message));
  });
});

it('the storage is [cache]\'s: several entries without [cache] storage are refused, naming the key to set', async () => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const flake = await mkdtemp(join(tmpdir(), 'nb-kexec-amb-'));
  try {
    await writeFile(join(flake, 'bootstrap.toml'), ['[storage.a]', 'provider = "s3"', 'bucket = "aaa"', '[storage.b]', 'provider = "s3"', 'bucket = "bbb"'].join('\n'));
    const loaded = await loadConfig(flake);
    assert.throws(() => resolveKexecStorage(loaded), (e) => isBootstrapError(e) && e.code === 'ambiguous-storage' && /set \[cache\] storage = "NAME" in bootstrap.toml \(one of: a, b\)/.test(e.hint ?? ''));
    await writeFile(join(flake, 'bootstrap.toml'), ['[storage.a]', 'provider = "s3"', 'bucket = "aaa"', '[storage.b]', 'provider = "s3"', 'bucket = "bbb"', '[cache]', 'storage = "b"'].join('\n'));
    assert.equal(resolveKexecStorage(await loadConfig(flake)).bucket, 'bbb');
  } finally {
    rmSync(flake, { recursive: true, force: true });
  }
});

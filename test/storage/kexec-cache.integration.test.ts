/**
 * The kexec image in the fleet storage (issue 20, item 3): `cache kexec-image put` against s3rver,
 * content-addressed, kept when there; the presigned GET the target downloads with reads that
 * object, and is the one the AWS SDK's signer makes (s3rver does not check SigV4 signatures).
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

/** The SDK signer's presigned GET (query signing, host only, UNSIGNED-PAYLOAD as S3 presigns). */
async function sdkPresign(endpoint: string, bucket: string | undefined, key: string, now: Date, expiresIn: number, region = 'us-east-1'): Promise<string> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  class Sha256 {
    private h: ReturnType<typeof createHmac> | ReturnType<typeof createHash>;
    constructor(secret?: string | Uint8Array) {
      this.h = secret ? createHmac('sha256', secret) : createHash('sha256');
    }
    update(d: string | ArrayBuffer | ArrayBufferView) {
      this.h.update(typeof d === 'string' ? d : d instanceof ArrayBuffer ? Buffer.from(d) : Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    }
    async digest() {
      return new Uint8Array(this.h.digest());
    }
  }
  const signer = new SignatureV4({ service: 's3', region, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, sha256: Sha256 as never, uriEscapePath: false, applyChecksum: false });
  const u = new URL(endpoint);
  const path = `${bucket ? `/${bucket}` : ''}/${key}`;
  const req = await signer.presign({ method: 'GET', protocol: u.protocol, hostname: u.hostname, ...(u.port ? { port: Number(u.port) } : {}), path, query: {}, headers: { host: u.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, { signingDate: now, expiresIn, unsignableHeaders: new Set(['x-amz-content-sha256']), unhoistableHeaders: new Set(['x-amz-content-sha256']) });
  const q = Object.entries(req.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return `${u.protocol}//${u.host}${path}?${orderLike(q)}`;
}

/** Our order: the signed parameters sorted, the signature last. */
function orderLike(q: string[]): string {
  const sig = q.filter((p) => p.startsWith('X-Amz-Signature='));
  return [...q.filter((p) => !p.startsWith('X-Amz-Signature=')).sort(), ...sig].join('&');
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
    const url = buildPresignedGetUrl(s, creds, r1.key, now, 600);
    assert.ok(url.startsWith(`${s3.endpoint}/fleet-cache/kexec-images/${sha}.tar.gz?`), url);
    const got = await fetch(url);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), content);
    // s3rver does not check SigV4 signatures, so the URL is compared with the AWS SDK's own signer
    // (@smithy/signature-v4, what @aws-sdk/s3-request-presigner uses): the same query, byte for byte.
    assert.equal(url, await sdkPresign(s3.endpoint, 'fleet-cache', r1.key, now, 600));
    const virtualHost = buildPresignedGetUrl({ ...s, forcePathStyle: false, endpoint: 'https://s3.eu-central-003.backblazeb2.com', region: 'eu-central-003' }, creds, r1.key, now, 600);
    assert.equal(virtualHost, await sdkPresign('https://fleet-cache.s3.eu-central-003.backblazeb2.com', undefined, r1.key, now, 600, 'eu-central-003'));

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

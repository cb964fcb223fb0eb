/** The S3 client and bucket checks against a real s3rver on 127.0.0.1 (and a 503-once proxy). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, type S3Credentials } from '../../src/storage/s3-client.js';
import { runBucketCheck, runLifecycleCheck, runProbeObject } from '../../src/storage/checks.js';
import { buildS3Settings, type S3Settings } from '../../src/storage/s3-settings.js';
import { isBootstrapError } from '../../src/errors.js';
import { SLOW_DOWN, startFaultProxy, startS3rver, type LocalS3 } from '../helpers/s3.js';

const GOOD: S3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function settings(endpoint: string, bucket: string): S3Settings {
  return buildS3Settings('local-s3', { provider: 'custom', endpoint, bucket, region: 'us-east-1' });
}

async function rejectsWithCode(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isBootstrapError(e), `expected a BootstrapError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.hint, 'a hint says what to do');
    return true;
  });
}

describe('S3 against s3rver', () => {
  let s3: LocalS3;
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    await s3?.close();
  });

  it('reports a missing bucket, then creates it when asked, then finds it', async () => {
    const s = settings(s3.endpoint, 'fleet-create');
    const client = await createS3Client(s, GOOD);
    await rejectsWithCode(runBucketCheck(client, s), 's3-no-such-bucket');
    assert.equal(await runBucketCheck(client, s, { create: true }), 'created');
    assert.equal(await runBucketCheck(client, s, { create: true }), 'exists');
    assert.equal(await runBucketCheck(client, s), 'exists');
  });

  it('writes a streamed probe object, reads it back identical and deletes it with DeleteObjects', async () => {
    const s = settings(s3.endpoint, 'fleet-probe');
    const client = await createS3Client(s, GOOD);
    await runBucketCheck(client, s, { create: true });
    const r = await runProbeObject(client, s, 200_000);
    assert.equal(r.bytes, 200_000);
    assert.match(r.key, /^\.bootstrap-probe\//);
  });

  it('stores stream bodies byte for byte and deletes several objects (WHEN_REQUIRED + MD5 fallback)', async () => {
    const s = settings(s3.endpoint, 'fleet-stream');
    const client = await createS3Client(s, GOOD);
    await runBucketCheck(client, s, { create: true });
    const body = randomBytes(300_000);
    await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'a/stream', Body: Readable.from([body]), ContentLength: body.length }));
    await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'a/buffer', Body: body }));
    for (const key of ['a/stream', 'a/buffer']) {
      const got = await client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), `${key} round-trips`);
    }
    const del = await client.send(new DeleteObjectsCommand({ Bucket: s.bucket, Delete: { Objects: [{ Key: 'a/stream' }, { Key: 'a/buffer' }] } }));
    assert.equal(del.Deleted?.length, 2);
    assert.equal(del.Errors?.length ?? 0, 0);
  });

  it('reports an unknown key id (s3rver checks key ids)', async () => {
    const s = settings(s3.endpoint, 'fleet-creds');
    await runBucketCheck(await createS3Client(s, GOOD), s, { create: true });
    await rejectsWithCode(runBucketCheck(await createS3Client(s, { accessKeyId: 'NOPE', secretAccessKey: 'S3RVER' }), s), 's3-bad-key-id');
  });

  it('maps the errors s3rver cannot produce: bad secret, B2 restricted key, name taken', async () => {
    const s = settings(s3.endpoint, 'fleet-faults');
    await runBucketCheck(await createS3Client(s, GOOD), s, { create: true });
    const proxy = await startFaultProxy(s3.port, [
      { status: 403, code: 'SignatureDoesNotMatch' },
      { status: 403, code: 'AccessDenied', message: 'not entitled' },
      { status: 404, code: 'NoSuchBucket' },
      { status: 409, code: 'BucketAlreadyExists' },
    ]);
    try {
      const via = settings(proxy.endpoint, 'fleet-faults');
      const client = await createS3Client(via, GOOD, { maxAttempts: 1 });
      await rejectsWithCode(runBucketCheck(client, via), 's3-bad-secret');
      const b2 = { ...via, provider: 'b2' as const };
      await assert.rejects(runBucketCheck(client, b2), (e: unknown) => isBootstrapError(e) && e.code === 's3-access-denied' && /listAllBucketNames/.test(e.hint ?? ''));
      await rejectsWithCode(runBucketCheck(client, via, { create: true }), 's3-bucket-name-taken');
      assert.equal(proxy.faultsServed(), 4);
    } finally {
      await proxy.close();
    }
  });

  it('says how to set the keep-last-version rule when the store has no lifecycle API', async () => {
    const s = settings(s3.endpoint, 'fleet-lifecycle');
    const client = await createS3Client(s, GOOD);
    await runBucketCheck(client, s, { create: true });
    const r = await runLifecycleCheck(client, s, { set: true });
    assert.equal(r.kind, 'unsupported');
    assert.match(r.kind === 'unsupported' ? r.hint : '', /noncurrent versions/);
  });

  it('retries a 503 from the store (SDK standard retry)', async () => {
    const s = settings(s3.endpoint, 'fleet-retry');
    await runBucketCheck(await createS3Client(s, GOOD), s, { create: true });
    const proxy = await startFaultProxy(s3.port, [SLOW_DOWN]);
    try {
      const via = settings(proxy.endpoint, 'fleet-retry');
      assert.equal(await runBucketCheck(await createS3Client(via, GOOD), via), 'exists');
      assert.equal(proxy.faultsServed(), 1, 'the first request got the 503');
    } finally {
      await proxy.close();
    }
  });

  it('gives up after the configured attempts when the store keeps answering 503', async () => {
    const s = settings(s3.endpoint, 'fleet-retry2');
    await runBucketCheck(await createS3Client(s, GOOD), s, { create: true });
    const proxy = await startFaultProxy(s3.port, Array(10).fill(SLOW_DOWN));
    try {
      const via = settings(proxy.endpoint, 'fleet-retry2');
      await rejectsWithCode(runBucketCheck(await createS3Client(via, GOOD, { maxAttempts: 2 }), via), 's3-error');
      assert.equal(proxy.faultsServed(), 2);
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Checks of an S3 bucket before attic or restic rely on it: the bucket exists (or is created),
 * an object can be written, read back and deleted, and deleted files really go away (a
 * lifecycle rule that keeps only the last version: B2 only hides deleted files, so without it
 * attic's garbage collection and restic's prune free nothing).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { LifecycleRule, S3Client } from '@aws-sdk/client-s3';
import { failure } from '../errors.js';
import { mapS3Error, s3ErrorCode, s3Status } from './s3-errors.js';
import type { S3Settings } from './s3-settings.js';

export type BucketStatus = 'exists' | 'created';

const PROBE_PREFIX = '.bootstrap-probe/';

/**
 * Does the bucket exist and can this key list it? ListObjectsV2 (not HeadBucket) because its
 * error body tells a bad key id from a bad secret. With `create`, a missing bucket is created.
 * Throws s3-no-such-bucket, s3-bucket-name-taken, s3-bad-key-id, s3-bad-secret, s3-access-denied.
 */
export async function runBucketCheck(client: S3Client, s: S3Settings, opts: { create?: boolean } = {}): Promise<BucketStatus> {
  const sdk = await import('@aws-sdk/client-s3');
  try {
    // Listing only our probe prefix keeps the answer tiny on a full bucket (and avoids s3rver's
    // error 500 on truncated listings).
    await client.send(new sdk.ListObjectsV2Command({ Bucket: s.bucket, MaxKeys: 1, Prefix: PROBE_PREFIX }));
    return 'exists';
  } catch (e) {
    const code = s3ErrorCode(e);
    if (!(code === 'NoSuchBucket' || code === 'NotFound') || !opts.create) throw mapS3Error(e, s, `list bucket ${s.bucket}`);
  }
  try {
    const needsLocation = s.isAws && s.region !== 'us-east-1';
    await client.send(new sdk.CreateBucketCommand({
      Bucket: s.bucket,
      ...(needsLocation ? { CreateBucketConfiguration: { LocationConstraint: s.region as never } } : {}),
    }));
    return 'created';
  } catch (e) {
    if (s3ErrorCode(e) === 'BucketAlreadyOwnedByYou') return 'exists';
    throw mapS3Error(e, s, `create bucket ${s.bucket}`);
  }
}

export interface ProbeResult {
  key: string;
  bytes: number;
}

/**
 * Write a probe object as a stream (the upload path that corrupts without WHEN_REQUIRED), read it
 * back byte for byte, delete it with DeleteObjects (the call that needs the MD5 fallback) and
 * check it is gone.
 */
export async function runProbeObject(client: S3Client, s: S3Settings, size = 128 * 1024): Promise<ProbeResult> {
  const sdk = await import('@aws-sdk/client-s3');
  const key = `${PROBE_PREFIX}${randomBytes(8).toString('hex')}`;
  const body = randomBytes(size);
  const step = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw mapS3Error(e, s, action);
    }
  };
  await step(`write ${key}`, () =>
    client.send(new sdk.PutObjectCommand({ Bucket: s.bucket, Key: key, Body: Readable.from([body]), ContentLength: body.length })),
  );
  const got = await step(`read ${key}`, async () => {
    const r = await client.send(new sdk.GetObjectCommand({ Bucket: s.bucket, Key: key }));
    return Buffer.from((await r.Body?.transformToByteArray()) ?? []);
  });
  if (!got.equals(body)) {
    throw failure('s3-probe-mismatch', `[storage.${s.name}]: the probe object read back differs from what was written (${got.length} of ${body.length} bytes)`,
      'the store rewrites uploads: for non-AWS stores checksums must be WHEN_REQUIRED; report this with the provider name');
  }
  const del = await step(`delete ${key}`, () => client.send(new sdk.DeleteObjectsCommand({ Bucket: s.bucket, Delete: { Objects: [{ Key: key }], Quiet: false } })));
  if (del.Errors?.length) {
    throw failure('s3-delete-failed', `[storage.${s.name}]: could not delete ${key}: ${del.Errors[0]?.Code ?? ''} ${del.Errors[0]?.Message ?? ''}`.trim(), 'the key needs the deleteFiles capability');
  }
  try {
    await client.send(new sdk.HeadObjectCommand({ Bucket: s.bucket, Key: key }));
    throw failure('s3-delete-ignored', `[storage.${s.name}]: ${key} still exists after DeleteObjects`);
  } catch (e) {
    if (s3Status(e) !== 404) throw mapS3Error(e, s, `check ${key} is gone`);
  }
  return { key, bytes: body.length };
}

export type LifecycleStatus =
  | { kind: 'keeps-last-version' }
  | { kind: 'set' }
  | { kind: 'missing'; hint: string }
  | { kind: 'unsupported'; hint: string };

/** The rule we set: noncurrent (hidden/deleted) versions expire a day later. */
export const KEEP_LAST_VERSION_RULE: LifecycleRule = {
  ID: 'bootstrap-keep-only-last-version',
  Status: 'Enabled',
  Filter: { Prefix: '' },
  NoncurrentVersionExpiration: { NoncurrentDays: 1 },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
};

/** Pure: does some enabled rule for the whole bucket expire noncurrent versions? */
export function hasKeepLastVersionRule(rules: readonly LifecycleRule[] | undefined): boolean {
  return (rules ?? []).some((r) => {
    const prefix = r.Filter?.Prefix ?? r.Prefix ?? '';
    const whole = prefix === '' && !r.Filter?.Tag && !r.Filter?.And;
    return r.Status === 'Enabled' && whole && r.NoncurrentVersionExpiration?.NoncurrentDays !== undefined;
  });
}

/** How to set the rule by hand, per provider (shown when the S3 API cannot). */
export function lifecycleHint(s: Pick<S3Settings, 'provider' | 'bucket'>): string {
  if (s.provider === 'b2') {
    return `set "Keep only the last version of the file" in the B2 web UI (Buckets → ${s.bucket} → Lifecycle Settings), or: ` +
      `b2 bucket update --lifecycle-rule '{"daysFromHidingToDeleting": 1, "daysFromUploadingToHiding": null, "fileNamePrefix": ""}' ${s.bucket}`;
  }
  return `add a lifecycle rule expiring noncurrent versions after 1 day on ${s.bucket} (or keep versioning off)`;
}

/**
 * Check the "keep only the last version" rule; with `set`, add it through
 * PutBucketLifecycleConfiguration (keeping the other rules). Stores whose S3 API has no lifecycle
 * calls (B2's may answer NotImplemented, as does s3rver) get `unsupported` with manual steps.
 */
export async function runLifecycleCheck(client: S3Client, s: S3Settings, opts: { set?: boolean } = {}): Promise<LifecycleStatus> {
  const sdk = await import('@aws-sdk/client-s3');
  let rules: LifecycleRule[] = [];
  try {
    const r = await client.send(new sdk.GetBucketLifecycleConfigurationCommand({ Bucket: s.bucket }));
    rules = r.Rules ?? [];
  } catch (e) {
    const code = s3ErrorCode(e);
    if (code === 'NotImplemented' || s3Status(e) === 501) return { kind: 'unsupported', hint: lifecycleHint(s) };
    if (code !== 'NoSuchLifecycleConfiguration') throw mapS3Error(e, s, `read lifecycle rules of ${s.bucket}`);
  }
  if (hasKeepLastVersionRule(rules)) return { kind: 'keeps-last-version' };
  if (!opts.set) return { kind: 'missing', hint: `run again with --set-lifecycle, or ${lifecycleHint(s)}` };
  try {
    await client.send(new sdk.PutBucketLifecycleConfigurationCommand({ Bucket: s.bucket, LifecycleConfiguration: { Rules: [...rules, KEEP_LAST_VERSION_RULE] } }));
    return { kind: 'set' };
  } catch (e) {
    if (s3ErrorCode(e) === 'NotImplemented' || s3Status(e) === 501) return { kind: 'unsupported', hint: lifecycleHint(s) };
    throw mapS3Error(e, s, `set lifecycle rules of ${s.bucket}`);
  }
}

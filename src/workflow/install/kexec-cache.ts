/**
 * The kexec image in the fleet's S3 storage (issue 20, item 3, `--kexec-from cache`): the storage
 * entry of [cache] (the one `bootstrap cache setup` uses), the object kexec-images/SHA256.tar.gz.
 * The key names the content, so nothing beside it is trusted: the pin always comes from the
 * operator (--kexec-sha256) and the target checks the download against it. The target gets a
 * presigned GET URL (valid for the kexec phase's time limit), so it needs no S3 credentials.
 * Loaded only by the installs and the command that use the cache route (the AWS SDK is large).
 */
import { createReadStream, statSync } from 'node:fs';
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { failure, isBootstrapError, usageError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { hashFile } from '../../installer/kexec-image.js';
import { kexecCacheKey } from '../../installer/kexec-route.js';
import type { SecretStore } from '../../secrets/store.js';
import { createS3Client, loadS3Credentials } from '../../storage/s3-client.js';
import type { S3Settings } from '../../storage/s3-settings.js';
import { resolveStorage } from '../storage/common.js';
import type { InstallCtx } from './context.js';

/** The fleet storage the kexec image lives in: [cache]'s storage entry and bucket. */
export function resolveKexecStorage(loaded: LoadedConfig): S3Settings {
  const section = loaded.config.cache;
  let s;
  try {
    s = resolveStorage(loaded, section.storage, section.bucket, 'the kexec image');
  } catch (e) {
    // Neither the install nor `cache kexec-image` takes --storage: the choice is [cache]'s.
    if (isBootstrapError(e) && e.code === 'ambiguous-storage') throw usageError('ambiguous-storage', 'several storage entries; which one holds the kexec image?', `set [cache] storage = "NAME" in bootstrap.toml (one of: ${Object.keys(loaded.config.storage).join(', ')})`);
    throw e;
  }
  if (s.provider === 'local') throw usageError('kexec-cache-needs-s3', `[storage.${s.name}] is a local directory; the target downloads the kexec image from S3`, 'pick an S3 storage entry in [cache] storage, or use --kexec-from local');
  return s;
}

/**
 * A SigV4 presigned GET of bucket/key, valid `expiresSec`, made by the AWS SDK's presigner with the
 * client every other S3 call uses (endpoint, path style, region, CA), so it signs what S3 checks.
 */
export async function buildPresignedGetUrl(s: S3Settings, creds: { accessKeyId: string; secretAccessKey: string }, key: string, now: Date, expiresSec: number): Promise<string> {
  const client = await createS3Client(s, creds);
  try {
    const [{ GetObjectCommand }, { getSignedUrl }] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
    return await getSignedUrl(client, new GetObjectCommand({ Bucket: s.bucket, Key: key }), { expiresIn: Math.min(604_800, Math.max(1, Math.floor(expiresSec))), signingDate: now });
  } finally {
    client.destroy();
  }
}

/** The presigned URL of the pinned image for an install's target. */
export async function presignKexecImageUrl(c: InstallCtx, sha256: string, validMs: number): Promise<string> {
  const s = resolveKexecStorage(c.loaded);
  const creds = await loadS3Credentials(await c.store(), s);
  const url = await buildPresignedGetUrl(s, creds, kexecCacheKey(sha256), c.app.clock.now(), validMs / 1000 + 600);
  registerSecret(new URL(url).searchParams.get('X-Amz-Signature')!); // a bearer credential until it expires
  return url;
}

export interface KexecPutResult {
  storage: string;
  bucket: string;
  key: string;
  sha256: string;
  bytes: number;
  uploaded: boolean;
}

/**
 * `bootstrap cache kexec-image FILE`: store a kexec image under its content's hash. The pin the
 * installs give (--kexec-sha256) is printed; an object already there under that key is kept.
 */
/** The file `cache kexec-image` puts: a .tar.gz that is there (checked before the secret store is opened); its size. */
export function checkKexecImageFile(file: string): number {
  let st;
  try {
    st = statSync(file);
  } catch {
    /* missing */
  }
  if (!st?.isFile()) throw usageError('bad-flag', `the kexec image ${file} is not a file`, 'give the path of the nixos-kexec-installer tarball');
  if (!/\.tar\.gz$/.test(file)) throw usageError('bad-flag', `the kexec image ${file} must be a .tar.gz`, 'the cache keeps images as SHA256.tar.gz (the name tells tar how to unpack it)');
  return st.size;
}

export async function runPutKexecImage(ctx: Pick<AppContext, 'out'>, loaded: LoadedConfig, store: SecretStore, file: string): Promise<KexecPutResult> {
  const bytes = checkKexecImageFile(file);
  const s = resolveKexecStorage(loaded);
  const sha256 = await hashFile(file);
  const key = kexecCacheKey(sha256);
  const client = await createS3Client(s, await loadS3Credentials(store, s));
  const { HeadObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  let exists = false;
  try {
    await client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }));
    exists = true;
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw failure('kexec-cache-failed', `could not read ${key} in bucket ${s.bucket} of [storage.${s.name}]: ${(e as Error).message.split('\n')[0]}`, 'check the storage credentials and endpoint (`bootstrap doctor`)', e);
  }
  if (!exists) {
    const task = ctx.out.task(`upload ${file} (${(bytes / 1e6).toFixed(1)} MB) to ${s.bucket}/${key}`);
    try {
      await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: createReadStream(file), ContentLength: bytes, ContentType: 'application/gzip', Metadata: { sha256 } }));
    } catch (e) {
      task.fail();
      throw failure('kexec-cache-failed', `could not upload ${key} to bucket ${s.bucket} of [storage.${s.name}]: ${(e as Error).message.split('\n')[0]}`, 'check the storage credentials and endpoint (`bootstrap doctor`)', e);
    }
    task.done();
  }
  client.destroy();
  return { storage: s.name, bucket: s.bucket, key, sha256, bytes, uploaded: !exists };
}

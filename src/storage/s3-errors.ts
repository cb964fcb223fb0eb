/**
 * S3 errors → BootstrapErrors that say what is wrong and what to do. Codes are the S3 error codes
 * (from the XML body) or, for body-less HEAD responses, the SDK's status names.
 */
import { BootstrapError, failure, isBootstrapError, messageOf } from '../errors.js';
import type { S3Settings } from './s3-settings.js';

interface SdkError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  code?: string;
}

export function s3ErrorCode(e: unknown): string {
  const err = e as SdkError;
  return err?.Code ?? err?.name ?? 'Unknown';
}

export function s3Status(e: unknown): number | undefined {
  return (e as SdkError)?.$metadata?.httpStatusCode;
}

/** What went wrong, for people. `action` names the call, e.g. "list bucket my-fleet". */
export function mapS3Error(e: unknown, s: Pick<S3Settings, 'name' | 'provider' | 'bucket' | 'secretNames' | 'endpoint'>, action: string): BootstrapError {
  if (isBootstrapError(e)) return e;
  const code = s3ErrorCode(e);
  const status = s3Status(e);
  const where = `[storage.${s.name}]`;
  const keyHint = `check ${s.secretNames.accessKeyId} and ${s.secretNames.secretAccessKey} in the secret store (\`bootstrap secrets set NAME --force\` replaces one)`;
  switch (code) {
    case 'InvalidAccessKeyId':
      return failure('s3-bad-key-id', `${where}: the store does not know this access key id (${action})`,
        s.provider === 'b2' ? `${keyHint}; B2 wants an application key's keyID (not the master key or account id)` : keyHint, e);
    case 'SignatureDoesNotMatch':
      return failure('s3-bad-secret', `${where}: the secret access key does not match the key id (${action})`, `${keyHint}; a trailing newline or a pasted space is a common cause`, e);
    case 'NoSuchBucket':
    case 'NotFound':
      return failure('s3-no-such-bucket', `${where}: bucket "${s.bucket}" does not exist (${action})`, 'create it with --create-bucket, or fix the bucket name', e);
    case 'BucketAlreadyExists':
      return failure('s3-bucket-name-taken', `${where}: bucket name "${s.bucket}" is taken by another account (names are global)`, 'choose another bucket name, e.g. with your domain as prefix', e);
    case 'AccessDenied':
    case 'Forbidden':
    case 'AllAccessDisabled':
      return failure('s3-access-denied', `${where}: access denied (${action})`,
        s.provider === 'b2'
          ? 'a bucket-restricted B2 key also needs the listAllBucketNames capability for S3 clients (b2 key create --bucket BUCKET NAME listBuckets,listAllBucketNames,readFiles,writeFiles,deleteFiles); the master key is refused by the S3 API'
          : `${keyHint}; the key needs list, read, write and delete rights on "${s.bucket}"`,
        e);
    default: {
      const errno = (e as SdkError)?.code;
      if (errno === 'ECONNREFUSED' || errno === 'ENOTFOUND' || errno === 'ETIMEDOUT' || errno === 'ECONNRESET') {
        return failure('s3-unreachable', `${where}: cannot reach ${s.endpoint ?? 'AWS S3'} (${errno})`, 'check the endpoint and the network', e);
      }
      const hint = status !== undefined && status >= 500
        ? 'the store is unavailable or throttling (retried already); try again later or check its status page'
        : undefined;
      return failure('s3-error', `${where}: ${action} failed: ${code}${status ? ` (HTTP ${status})` : ''}: ${messageOf(e)}`, hint, e);
    }
  }
}

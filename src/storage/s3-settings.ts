/**
 * Pure: a [storage.NAME] entry → the settings an S3 client, restic and atticd need. Endpoints are
 * derived here once so the SDK client, restic's repository URL and attic.nix always agree.
 */
import { usageError } from '../errors.js';
import type { Config } from '../config/schema.js';
import type { z } from 'zod';
import type { storageEntry } from '../config/sections/storage.js';

export type StorageEntry = z.infer<typeof storageEntry>;
export type Provider = StorageEntry['provider'];

export interface S3Settings {
  /** The [storage.NAME] key. */
  name: string;
  provider: Exclude<Provider, 'local'>;
  bucket: string;
  region: string;
  /** Undefined for AWS (the SDK derives it). */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** AWS accepts the SDK's default CRC32 checksums; every other store gets "when required". */
  isAws: boolean;
  caCert: string | undefined;
  /** Secret store names of the key id and secret. */
  secretNames: { accessKeyId: string; secretAccessKey: string };
}

export interface LocalStorage {
  name: string;
  provider: 'local';
  path: string;
}

const B2_REGION = /^[a-z]{2}-[a-z]+-\d{3}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Pick [storage.NAME]: the named one, or the only one. */
export function resolveStorageName(config: Pick<Config, 'storage'>, wanted: string | undefined, purpose: string): string {
  const names = Object.keys(config.storage);
  if (wanted !== undefined) {
    if (!config.storage[wanted]) {
      throw usageError('unknown-storage', `no [storage.${wanted}] in bootstrap.toml`, names.length ? `one of: ${names.join(', ')}` : 'add a [storage.NAME] section (provider, bucket, region)');
    }
    return wanted;
  }
  if (names.length === 1) return names[0]!;
  if (names.length === 0) {
    throw usageError('no-storage', `no [storage.NAME] section in bootstrap.toml for ${purpose}`, 'add e.g. [storage.b2main] provider = "b2", region = "eu-central-003", bucket = "my-fleet"');
  }
  throw usageError('ambiguous-storage', `several storage entries; which one for ${purpose}?`, `pass --storage with one of: ${names.join(', ')}`);
}

export function buildSecretNames(name: string, entry: StorageEntry): S3Settings['secretNames'] {
  const prefix = (entry.credentials ?? `storage/${name}`).replace(/\/+$/, '');
  return { accessKeyId: `${prefix}/access-key-id`, secretAccessKey: `${prefix}/secret-access-key` };
}

function endpointOf(name: string, entry: StorageEntry, region: string): string | undefined {
  if (entry.endpoint) {
    let u: URL;
    try {
      u = new URL(entry.endpoint);
    } catch {
      throw usageError('bad-endpoint', `[storage.${name}] endpoint "${entry.endpoint}" is not a URL`, 'write it as https://host[:port]');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw usageError('bad-endpoint', `[storage.${name}] endpoint must be http(s)`);
    return u.origin;
  }
  switch (entry.provider) {
    case 'b2':
      if (!B2_REGION.test(region)) {
        throw usageError('bad-region', `[storage.${name}] region "${region}" is not a B2 region`, 'copy it from the bucket\'s S3 endpoint, e.g. eu-central-003 in s3.eu-central-003.backblazeb2.com');
      }
      return `https://s3.${region}.backblazeb2.com`;
    case 'r2':
      if (!entry.accountId || !/^[a-f0-9]{32}$/.test(entry.accountId)) {
        throw usageError('missing-endpoint', `[storage.${name}] r2 needs accountId (32 hex digits) or endpoint`);
      }
      return `https://${entry.accountId}.r2.cloudflarestorage.com`;
    case 's3':
      return undefined;
    default:
      throw usageError('missing-endpoint', `[storage.${name}] provider "${entry.provider}" needs an endpoint`, 'set endpoint = "https://minio.example.org:9000"');
  }
}

/**
 * Settings for an S3 entry. `bucketOverride` comes from a flag or the [cache]/[backup] section.
 * Throws a usage error naming the key that is missing or wrong.
 */
export function buildS3Settings(name: string, entry: StorageEntry, bucketOverride?: string): S3Settings {
  if (entry.provider === 'local') throw usageError('local-storage', `[storage.${name}] is a local directory, not an S3 store`);
  const bucket = bucketOverride ?? entry.bucket;
  if (!bucket) throw usageError('missing-bucket', `[storage.${name}] has no bucket`, 'set bucket = "NAME" or pass --bucket');
  if (!BUCKET.test(bucket)) throw usageError('bad-bucket', `"${bucket}" is not a valid bucket name`, 'use 3-63 lower-case letters, digits, "-" and "."');
  const region = entry.region ?? (entry.provider === 'r2' ? 'auto' : entry.provider === 'b2' ? '' : 'us-east-1');
  if (entry.provider === 'b2' && !region) throw usageError('missing-region', `[storage.${name}] b2 needs region`, 'e.g. region = "eu-central-003"');
  const provider = entry.provider;
  return {
    name,
    provider,
    bucket,
    region,
    endpoint: endpointOf(name, entry, region),
    forcePathStyle: entry.forcePathStyle ?? provider !== 's3',
    isAws: provider === 's3' && !entry.endpoint,
    caCert: entry.caCert,
    secretNames: buildSecretNames(name, entry),
  };
}

export function buildLocalStorage(name: string, entry: StorageEntry): LocalStorage {
  if (entry.provider !== 'local') throw usageError('not-local', `[storage.${name}] is not local`);
  if (!entry.path) throw usageError('missing-path', `[storage.${name}] provider "local" needs path`);
  return { name, provider: 'local', path: entry.path };
}

/** The endpoint as a URL string for tools that need one spelled out (restic, atticd). */
export function endpointUrl(s: S3Settings): string {
  return s.endpoint ?? `https://s3.${s.region}.amazonaws.com`;
}

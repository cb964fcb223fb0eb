/**
 * The one S3 client factory. The AWS SDK is imported lazily (it is large), credentials come from
 * the secret store, trimmed (a stray newline breaks SigV4 signing) and registered with the
 * redactor. Stores that are not AWS get checksums "when required": B2 and others reject the
 * SDK's default CRC32 headers, and s3rver stores aws-chunked stream uploads verbatim
 * (shared/test-infra.md §4).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { failure, usageError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { SecretStore } from '../secrets/store.js';
import type { S3Settings } from './s3-settings.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3ClientOptions {
  /** Attempts per request including the first (SDK standard retry; 503 and throttling are retried). */
  maxAttempts?: number;
}

/** A B2 master key id is the 12-hex-digit account id; application key ids are longer. */
export function isB2MasterKeyId(keyId: string): boolean {
  return /^[0-9a-f]{12}$/i.test(keyId);
}

/**
 * Read the key id and secret from the store. Throws `missing-credentials` naming the secret to
 * create, and `b2-master-key` before any request when the key is B2's master key.
 */
export async function loadS3Credentials(store: SecretStore, s: S3Settings): Promise<S3Credentials> {
  const [id, secret] = await Promise.all([store.get(s.secretNames.accessKeyId), store.get(s.secretNames.secretAccessKey)]);
  if (!id || !secret) {
    const missing = !id ? s.secretNames.accessKeyId : s.secretNames.secretAccessKey;
    throw usageError('missing-credentials', `no S3 credentials for [storage.${s.name}]: ${missing} is not in the secret store`, `store them: \`bootstrap secrets set ${s.secretNames.accessKeyId}\` and \`bootstrap secrets set ${s.secretNames.secretAccessKey}\` (each reads the value from stdin or a hidden prompt)`);
  }
  const creds = { accessKeyId: id.trim(), secretAccessKey: secret.trim() };
  registerSecret(creds.secretAccessKey);
  if (s.provider === 'b2' && isB2MasterKeyId(creds.accessKeyId)) {
    throw usageError('b2-master-key', `[storage.${s.name}] uses the B2 master application key, which B2's S3 API refuses`, `create an application key (b2 key create, or Application Keys in the web UI) and store its keyID and applicationKey: \`bootstrap secrets set ${s.secretNames.accessKeyId} --force\`, \`bootstrap secrets set ${s.secretNames.secretAccessKey} --force\``);
  }
  return creds;
}

/** Options for `new S3Client(...)`, without the HTTP handler. Pure, so it is unit-tested. */
export function buildS3ClientConfig(s: S3Settings, creds: S3Credentials, opts: S3ClientOptions = {}) {
  return {
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: s.forcePathStyle,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    maxAttempts: opts.maxAttempts ?? 4,
    ...(s.isAws ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }),
  };
}

/**
 * DeleteObjects still carries a CRC32 checksum with WHEN_REQUIRED (S3 marks it "checksum
 * required"); stores without CRC32 support need Content-MD5 instead. This is the SDK's documented
 * fallback (aws-sdk-js-v3 supplemental-docs/MD5_FALLBACK.md): after flexibleChecksumsMiddleware,
 * drop x-amz-checksum-* headers and set Content-MD5 of the body, before the request is signed.
 */
export function addMd5Fallback(client: S3Client): void {
  type Args = { request?: { headers?: Record<string, string>; body?: unknown } };
  const middleware = (next: (a: Args) => Promise<unknown>, context: { commandName?: string }) => async (args: Args) => {
    const req = args.request;
    if (context.commandName !== 'DeleteObjectsCommand' || !req?.headers) return next(args);
    for (const h of Object.keys(req.headers)) {
      const l = h.toLowerCase();
      if (l.startsWith('x-amz-checksum-') || l.startsWith('x-amz-sdk-checksum-')) delete req.headers[h];
    }
    if (typeof req.body === 'string' || req.body instanceof Uint8Array) {
      req.headers['Content-MD5'] = createHash('md5').update(req.body).digest('base64');
    }
    return next(args);
  };
  // The documented addRelativeTo(flexibleChecksumsMiddleware) fails on a client-wide stack for
  // commands without that middleware (ListObjectsV2); the finalizeRequest step runs after every
  // build-step middleware and, at high priority, before retry and signing: the same position.
  client.middlewareStack.add(middleware as never, { step: 'finalizeRequest', priority: 'high', name: 'bootstrapMd5Fallback', tags: ['MD5_FALLBACK'] });
}

/**
 * The SDK's switch for its Node-version notice ("NodeVersionSupportWarning: … will require node
 * >=22", printed through process.emitWarning when the first client is built on an older Node).
 * @aws-sdk/core's emitWarningIfUnsupportedVersion skips it when this variable is "true"; it is
 * read at client construction, so setting it here silences that one notice and no other warning.
 */
export const SDK_NODE_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Turn the SDK's Node-version notice off unless the user set the variable themselves. */
export function silenceSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  if (env[SDK_NODE_WARNING_ENV] === undefined) env[SDK_NODE_WARNING_ENV] = 'true';
}

/** Build the client. Throws `bad-ca-cert` when the configured CA file cannot be read. */
export async function createS3Client(s: S3Settings, creds: S3Credentials, opts: S3ClientOptions = {}): Promise<S3Client> {
  silenceSdkNodeVersionWarning();
  const { S3Client: Client } = await import('@aws-sdk/client-s3');
  let requestHandler: { httpsAgent: unknown } | undefined;
  if (s.caCert) {
    let ca: string;
    try {
      ca = await readFile(s.caCert, 'utf8');
    } catch (e) {
      throw failure('bad-ca-cert', `cannot read caCert ${s.caCert} of [storage.${s.name}]`, 'fix the path in bootstrap.toml', e);
    }
    const { Agent } = await import('node:https');
    requestHandler = { httpsAgent: new Agent({ ca, keepAlive: true }) };
  }
  const config = { ...buildS3ClientConfig(s, creds, opts), ...(requestHandler ? { requestHandler } : {}) };
  const client = new Client(config as NonNullable<ConstructorParameters<typeof Client>[0]>);
  if (!s.isAws) addMd5Fallback(client);
  return client;
}

/**
 * `bootstrap cache setup --server HOST`: check the bucket, make (or reuse) the token signing key,
 * mint the admin/push/pull tokens, keep atticd's environment file in the secret store and render
 * hosts/HOST/attic.nix. Ask-then-act: everything is resolved before the first write, and
 * --dry-run stops after printing the plan (no S3 writes, no secrets made).
 */
import { hostDir } from '../../config/host-dir.js';
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import type { SecretStore } from '../../secrets/store.js';
import { buildAtticEnvFile, buildAtticModule, ATTIC_ENV_SECRET } from '../../storage/attic-server.js';
import { buildAtticClaims, buildRolePermissions, generateSigningKey, mintAtticToken, signingKeyFromPem, type SigningKey, type TokenRole } from '../../storage/attic-tokens.js';
import { runBucketCheck, runLifecycleCheck, runProbeObject } from '../../storage/checks.js';
import type { SecretsMode } from '../../config/sections/secrets-mode.js';
import { createS3Client, loadS3Credentials } from '../../storage/s3-client.js';
import { checkCacheName } from '../../storage/attic-api.js';
import { atticSecretNames } from '../../storage/attic-secret-names.js';
import { buildCaCertFile } from '../../storage/ca-cert.js';
import { endpointUrl } from '../../storage/s3-settings.js';
import { buildDeliveryHint, checkHostName, loadHostCaCert, resolveStorage, runApplyFilePlan, type FileResult } from './common.js';

export interface CacheSetupOptions {
  server: string;
  storage?: string;
  bucket?: string;
  dryRun: boolean;
  createBucket: boolean;
  setLifecycle: boolean;
  /** How the host gets its secret files: --secrets, else bootstrap.toml's [sops] mode. */
  secretsMode: SecretsMode;
  /** Re-mint tokens even when they exist (after a key rotation). */
  rotateTokens?: boolean;
  /** RSA modulus size; tests use 2048 for speed. */
  keyBits?: number;
  /** --json: a dry run's file contents go into the result, not onto stdout. */
  json?: boolean;
}

/**
 * What setup did, for people and for `--json`. Secret values never appear: only their references
 * in the secret store and what happened to them.
 */
export interface CacheSetupResult {
  server: string;
  cache: string;
  storage: string;
  bucket: string;
  /** The S3 endpoint atticd uses (undefined for AWS). */
  endpoint: string | undefined;
  dryRun: boolean;
  /** Paths written (relative to the flake). */
  files: string[];
  /** Every rendered file with its action (and, in a dry run, its content). */
  plan: FileResult[];
  /** exists | created, after the write/read/delete probe; absent in a dry run. */
  bucketStatus?: string;
  /** The keep-only-last-version rule: present | set | missing | unsupported. */
  lifecycle?: string;
  signingKey?: 'created' | 'kept';
  tokens?: Record<TokenRole, 'minted' | 'kept'>;
  /** Secret store references (never values). */
  secretRefs: Record<string, string>;
  /** The host secrets the host must receive, and how. */
  hostSecrets: { mode: SecretsMode; names: string[] };
  /** The private CA rendered next to attic.nix, if the storage entry has one. */
  caCert?: string;
}

/** Secret store names of the fleet's attic secrets (storage/attic-secret-names.ts, shared with install and deploy). */
export { atticSecretNames };

async function ensureSigningKey(store: SecretStore, name: string, bits: number): Promise<{ key: SigningKey; created: boolean }> {
  const pem = await store.get(name);
  if (pem) return { key: signingKeyFromPem(pem), created: false };
  const key = generateSigningKey(bits);
  await store.put(name, key.pem, { kind: 'note' });
  return { key, created: true };
}

export async function runCacheSetup(ctx: Pick<AppContext, 'out' | 'clock'>, loaded: LoadedConfig, store: SecretStore, o: CacheSetupOptions): Promise<CacheSetupResult> {
  const server = checkHostName(o.server);
  const section = loaded.config.cache;
  const cacheName = checkCacheName(section.name); // the tokens' permissions name it: atticd must accept it
  const storage = resolveStorage(loaded, o.storage ?? section.storage, o.bucket ?? section.bucket, 'the binary cache');
  if (storage.provider === 'local') throw usageError('cache-needs-s3', `[storage.${storage.name}] is local; attic's cache here is set up on S3`, 'pick an S3 storage entry with --storage');
  const ca = await loadHostCaCert(storage);
  const dir = hostDir(loaded.config, server);
  const planned = [
    buildAtticModule({ host: server, hostDir: dir, s3: storage, listen: section.listen, secretsMode: o.secretsMode, ...(section.url ? { apiEndpoint: section.url } : {}), ...(ca ? { caCert: ca } : {}) }),
    ...(ca ? [buildCaCertFile(dir, ca)] : []),
  ];
  const names = atticSecretNames(server);
  const base = {
    server, cache: cacheName, storage: storage.name, bucket: storage.bucket, endpoint: storage.isAws ? undefined : endpointUrl(storage), dryRun: o.dryRun,
    hostSecrets: { mode: o.secretsMode, names: [ATTIC_ENV_SECRET] },
    ...(ca ? { caCert: `${dir}/${ca.fileName}` } : {}),
  };

  if (o.dryRun) {
    ctx.out.info(`would check bucket ${storage.bucket} on [storage.${storage.name}], and keep the signing key, tokens and atticd environment in the secret store (${names.signingKey}, ${names.env})`);
    const applied = await runApplyFilePlan(ctx, loaded.flakeDir, planned, { dryRun: true, json: o.json ?? false });
    return { ...base, files: applied.written, plan: applied.files, secretRefs: {} };
  }

  const creds = await loadS3Credentials(store, storage);
  const client = await createS3Client(storage, creds);
  let bucketStatus: string;
  let lifecycle: string;
  try {
    const task = ctx.out.task(`check bucket ${storage.bucket}`);
    bucketStatus = await runBucketCheck(client, storage, { create: o.createBucket }).catch((e) => { task.fail(); throw e; });
    await runProbeObject(client, storage).catch((e) => { task.fail(); throw e; });
    task.done(`${bucketStatus}, write/read/delete ok`);
    const life = await runLifecycleCheck(client, storage, { set: o.setLifecycle });
    lifecycle = life.kind;
    if (life.kind === 'missing' || life.kind === 'unsupported') {
      ctx.out.warn(`bucket ${storage.bucket} may keep deleted files, so attic's garbage collection frees nothing: ${life.hint}`);
    } else ctx.out.success(life.kind === 'set' ? 'lifecycle rule set: only the last version of a file is kept' : 'lifecycle rule keeps only the last version');
  } finally {
    client.destroy();
  }

  const refs: Record<string, string> = {};
  const tokens = {} as Record<TokenRole, 'minted' | 'kept'>;
  const { key, created } = await ensureSigningKey(store, names.signingKey, o.keyBits ?? 4096);
  refs.signingKey = store.refOf(names.signingKey);
  for (const role of ['admin', 'push', 'pull'] as const) {
    const name = names.tokens[role];
    if (!created && !o.rotateTokens && (await store.exists(name))) {
      refs[`${role}Token`] = store.refOf(name);
      tokens[role] = 'kept';
      continue;
    }
    const claims = buildAtticClaims(`bootstrap-${role}`, buildRolePermissions(role, cacheName), ctx.clock.now(), section.tokenDays);
    refs[`${role}Token`] = await store.put(name, await mintAtticToken(key, claims), { kind: 'api-credential' });
    tokens[role] = 'minted';
  }
  refs.env = await store.put(names.env, buildAtticEnvFile(key.base64, creds, storage), { kind: 'note' });
  ctx.out.success(`attic secrets kept in the secret store: ${Object.values(refs).join(', ')}`);

  const applied = await runApplyFilePlan(ctx, loaded.flakeDir, planned, { dryRun: false });
  ctx.out.info(`import ./attic.nix from ${dir}/default.nix`);
  ctx.out.info(`next: ${buildDeliveryHint(o.secretsMode, server, [ATTIC_ENV_SECRET], dir)}`);
  return { ...base, files: applied.written, plan: applied.files, bucketStatus, lifecycle, signingKey: created ? 'created' : 'kept', tokens, secretRefs: refs };
}

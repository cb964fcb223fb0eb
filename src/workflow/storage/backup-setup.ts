/**
 * `bootstrap backup setup HOST` and `bootstrap backup status HOST`. Setup: a restic repository per
 * host at PREFIX/HOST in the bucket (or a directory for provider "local"), its password made once
 * and kept in the secret store, `restic init` (an initialized repository is fine), and
 * hosts/HOST/backup.nix rendered for the NixOS release the flake pins.
 */
import { hostDir } from '../../config/host-dir.js';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import type { SecretStore } from '../../secrets/store.js';
import { buildBackupModule, DEFAULT_RELEASE, parseNixpkgsRelease, releaseNumber, RESTIC_ENV_SECRET, RESTIC_PASSWORD_SECRET } from '../../storage/backup-module.js';
import { runBucketCheck } from '../../storage/checks.js';
import { hostSecretStoreName } from '../../storage/host-secrets.js';
import type { SecretsMode } from '../../config/sections/secrets-mode.js';
import { buildResticEnvFile, buildResticRepo, buildResticRepository, runResticInit, runResticSnapshots, type ResticRepo, type Snapshot } from '../../storage/restic.js';
import { createS3Client, loadS3Credentials } from '../../storage/s3-client.js';
import { buildCaCertFile } from '../../storage/ca-cert.js';
import { buildDeliveryHint, checkHostName, loadHostCaCert, resolveStorage, runApplyFilePlan, type FileResult } from './common.js';

export interface BackupSetupOptions {
  host: string;
  storage?: string;
  bucket?: string;
  paths?: string[];
  exclude?: string[];
  release?: string;
  /** How the host gets its secret files: --secrets, else bootstrap.toml's [sops] mode. */
  secretsMode: SecretsMode;
  createBucket: boolean;
  dryRun: boolean;
  /** --json: a dry run's file contents go into the result, not onto stdout. */
  json?: boolean;
}

/** What setup did, for people and for `--json`. Secret values never appear, only references. */
export interface BackupSetupResult {
  host: string;
  storage: string;
  /** The restic repository (s3:ENDPOINT/BUCKET/PREFIX/HOST or a directory). */
  repository: string;
  release: string;
  /** Where the release came from: --nixpkgs-release, bootstrap.toml, flake.lock or default. */
  releaseSource: string;
  paths: string[];
  exclude: string[];
  dryRun: boolean;
  init: 'created' | 'exists' | 'skipped';
  /** exists | created (S3 only; absent in a dry run). */
  bucketStatus?: string;
  /** Paths written (relative to the flake). */
  files: string[];
  /** Every rendered file with its action (and, in a dry run, its content). */
  plan: FileResult[];
  /** Secret store references (never values). */
  secretRefs: Record<string, string>;
  /** The host secrets the host must receive, and how. */
  hostSecrets: { mode: SecretsMode; names: string[] };
  /** The private CA rendered next to backup.nix, if the storage entry has one. */
  caCert?: string;
}

/** The release to render for: flag, then [backup] nixpkgsRelease, then flake.lock, then the default. */
export async function resolveRelease(loaded: LoadedConfig, flag: string | undefined): Promise<{ release: string; source: string }> {
  const explicit = flag ?? loaded.config.backup.nixpkgsRelease;
  if (explicit) {
    try {
      releaseNumber(explicit);
    } catch {
      throw usageError('bad-release', `"${explicit}" is not a NixOS release`, 'write it as YY.MM (e.g. 24.11) or "unstable"');
    }
    return { release: explicit, source: flag ? '--nixpkgs-release' : 'bootstrap.toml' };
  }
  try {
    const found = parseNixpkgsRelease(await readFile(join(loaded.flakeDir, 'flake.lock'), 'utf8'));
    if (found) return { release: found, source: 'flake.lock' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { release: DEFAULT_RELEASE, source: 'default' };
}

/** Repository and secrets of a host's backups; `create` makes the password when missing. */
export async function openHostRepo(loaded: LoadedConfig, store: SecretStore, host: string, o: { storage?: string; bucket?: string; createPassword?: boolean }) {
  const section = loaded.config.backup;
  const storage = resolveStorage(loaded, o.storage ?? section.storage, o.bucket ?? section.bucket, 'backups');
  const repository = buildResticRepository(storage, section.prefix, host);
  const pwName = hostSecretStoreName(host, RESTIC_PASSWORD_SECRET);
  let password = await store.get(pwName);
  let passwordRef: string | undefined;
  if (!password) {
    if (!o.createPassword) throw usageError('no-backup-password', `no restic password for ${host} in the secret store (${pwName})`, `run \`bootstrap backup setup ${host}\` first, or store the existing repository's password: \`bootstrap secrets set ${pwName}\``);
    password = randomBytes(32).toString('base64url');
    passwordRef = await store.put(pwName, password, { kind: 'password' });
  }
  const creds = storage.provider === 'local' ? undefined : await loadS3Credentials(store, storage);
  const repo: ResticRepo = storage.provider === 'local' ? buildResticRepo(repository, password) : buildResticRepo(repository, password, creds, storage);
  return { storage, repo, creds, passwordRef: passwordRef ?? store.refOf(pwName) };
}

export async function runBackupSetup(ctx: Pick<AppContext, 'out' | 'run' | 'signal'>, loaded: LoadedConfig, store: SecretStore, o: BackupSetupOptions): Promise<BackupSetupResult> {
  const host = checkHostName(o.host);
  const section = loaded.config.backup;
  const { release, source } = await resolveRelease(loaded, o.release);
  const storage = resolveStorage(loaded, o.storage ?? section.storage, o.bucket ?? section.bucket, 'backups');
  const repository = buildResticRepository(storage, section.prefix, host);
  const paths = o.paths ?? section.paths;
  if (paths.length === 0 || paths.some((p) => !p.startsWith('/'))) throw usageError('bad-paths', 'backup paths must be absolute', 'e.g. --paths /srv,/var/lib');
  const exclude = o.exclude ?? section.exclude;
  const ca = await loadHostCaCert(storage);
  const dir = hostDir(loaded.config, host);
  const planned = [
    buildBackupModule({
      host, hostDir: dir, repository, s3: storage.provider !== 'local', paths, exclude,
      onCalendar: section.onCalendar, pruneOpts: section.pruneOpts, release, secretsMode: o.secretsMode, ...(ca ? { caCert: ca } : {}),
    }),
    ...(ca ? [buildCaCertFile(dir, ca)] : []),
  ];
  const base = {
    host, storage: storage.name, repository, release, releaseSource: source, paths, exclude, dryRun: o.dryRun,
    hostSecrets: { mode: o.secretsMode, names: storage.provider === 'local' ? [RESTIC_PASSWORD_SECRET] : [RESTIC_PASSWORD_SECRET, RESTIC_ENV_SECRET] },
    ...(ca ? { caCert: `${dir}/${ca.fileName}` } : {}),
  };
  ctx.out.info(`rendering for NixOS ${release} (from ${source}); repository ${repository}`);
  if (o.dryRun) {
    ctx.out.info(`would make and keep the restic password in the secret store (${hostSecretStoreName(host, RESTIC_PASSWORD_SECRET)}) and run restic init`);
    const applied = await runApplyFilePlan(ctx, loaded.flakeDir, planned, { dryRun: true, json: o.json ?? false });
    return { ...base, init: 'skipped', files: applied.written, plan: applied.files, secretRefs: {} };
  }

  const opened = await openHostRepo(loaded, store, host, { ...o, createPassword: true });
  const refs: Record<string, string> = { password: opened.passwordRef };
  let bucketStatus: string | undefined;
  if (opened.storage.provider !== 'local' && opened.creds) {
    const client = await createS3Client(opened.storage, opened.creds);
    try {
      bucketStatus = await runBucketCheck(client, opened.storage, { create: o.createBucket });
      ctx.out.success(`bucket ${opened.storage.bucket}: ${bucketStatus}`);
    } finally {
      client.destroy();
    }
    refs.env = await store.put(hostSecretStoreName(host, RESTIC_ENV_SECRET), buildResticEnvFile(opened.creds, opened.storage), { kind: 'note' });
  }
  const task = ctx.out.task(`restic init ${repository}`);
  const init = await runResticInit(ctx.run, opened.repo, ctx.signal).catch((e) => { task.fail(); throw e; });
  task.done(init === 'created' ? 'created' : 'already initialized');
  const applied = await runApplyFilePlan(ctx, loaded.flakeDir, planned, { dryRun: false });
  ctx.out.info(`import ./backup.nix from ${dir}/default.nix; secrets kept at ${Object.values(refs).join(', ')}`);
  const names = [RESTIC_PASSWORD_SECRET, ...(refs.env ? [RESTIC_ENV_SECRET] : [])];
  ctx.out.info(`next: ${buildDeliveryHint(o.secretsMode, host, names, dir)}`);
  return { ...base, init, ...(bucketStatus ? { bucketStatus } : {}), files: applied.written, plan: applied.files, secretRefs: refs, hostSecrets: { mode: o.secretsMode, names } };
}

export async function runBackupStatus(ctx: Pick<AppContext, 'out' | 'run' | 'signal'>, loaded: LoadedConfig, store: SecretStore, o: { host: string; storage?: string; bucket?: string }): Promise<{ repository: string; snapshots: Snapshot[] }> {
  const host = checkHostName(o.host);
  const { repo } = await openHostRepo(loaded, store, host, o);
  return { repository: repo.repository, snapshots: await runResticSnapshots(ctx.run, repo, undefined, ctx.signal) };
}

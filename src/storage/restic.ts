/**
 * restic, driven through the one subprocess door. Secrets reach restic only through the
 * environment (RESTIC_PASSWORD, AWS_*), never argv. `--no-cache` keeps our one-shot calls from
 * filling the operator's ~/.cache/restic.
 */
import { z } from 'zod';
import { join } from 'node:path';
import { failure } from '../errors.js';
import type { Runner, RunResult } from '../exec/run.js';
import { registerSecret } from '../redact.js';
import type { S3Credentials } from './s3-client.js';
import { endpointUrl, type LocalStorage, type S3Settings } from './s3-settings.js';

export interface ResticRepo {
  /** RESTIC_REPOSITORY, e.g. s3:https://s3.eu-central-003.backblazeb2.com/fleet/restic/web1 */
  repository: string;
  /** Secret environment: password and S3 keys. */
  env: Record<string, string>;
  /** PEM of a private CA for a self-hosted S3 endpoint (restic 0.14 reads no RESTIC_CACERT). */
  cacert?: string;
}

const HOST = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function buildResticRepository(storage: S3Settings | LocalStorage, prefix: string, host: string): string {
  if (!HOST.test(host)) throw failure('bad-host', `"${host}" is not a host name`);
  if (!PREFIX.test(prefix)) throw failure('bad-prefix', `backup prefix "${prefix}" must be path segments of letters, digits, ".", "_", "-"`);
  if (storage.provider === 'local') return join(storage.path, host);
  return `s3:${endpointUrl(storage)}/${storage.bucket}/${prefix}/${host}`;
}

export function buildResticRepo(repository: string, password: string, creds?: S3Credentials, s3?: S3Settings): ResticRepo {
  registerSecret(password);
  const env: Record<string, string> = { RESTIC_REPOSITORY: repository, RESTIC_PASSWORD: password };
  if (creds) {
    env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
    if (s3 && s3.region !== 'auto') env.AWS_DEFAULT_REGION = s3.region;
  }
  return { repository, env, ...(s3?.caCert ? { cacert: s3.caCert } : {}) };
}

/** The environment file restic's NixOS service reads (a SECRET, kept in the secret store). */
export function buildResticEnvFile(creds: S3Credentials, s3: S3Settings): string {
  const lines = [`AWS_ACCESS_KEY_ID=${creds.accessKeyId}`, `AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}`];
  if (s3.region !== 'auto') lines.push(`AWS_DEFAULT_REGION=${s3.region}`);
  return lines.join('\n') + '\n';
}

export function buildResticArgv(repo: Pick<ResticRepo, 'cacert'>, args: string[]): string[] {
  return ['restic', '--no-cache', ...(repo.cacert ? ['--cacert', repo.cacert] : []), ...args];
}

/** Variables of the operator's shell that would point restic at another repository or account. */
const CLEARED = ['RESTIC_PASSWORD_FILE', 'RESTIC_PASSWORD_COMMAND', 'RESTIC_REPOSITORY_FILE', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

export function runRestic(run: Runner, repo: ResticRepo, args: string[], opts: { check?: boolean; signal?: AbortSignal; cwd?: string } = {}): Promise<RunResult> {
  const env: Record<string, string | undefined> = Object.fromEntries(CLEARED.map((k) => [k, undefined]));
  return run(buildResticArgv(repo, args), { env: { ...env, ...repo.env }, check: opts.check ?? true, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}) });
}

/** `restic init`; an initialized repository is success. Returns whether it was created now. */
export async function runResticInit(run: Runner, repo: ResticRepo, signal?: AbortSignal): Promise<'created' | 'exists'> {
  const r = await runRestic(run, repo, ['init'], { check: false, ...(signal ? { signal } : {}) });
  if (r.code === 0) return 'created';
  if (/already initialized|already exists|config file already exists/i.test(r.stderr)) return 'exists';
  throw failure('restic-init-failed', `restic init failed for ${repo.repository}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`,
    'check the bucket, the S3 credentials and that the repository password matches an existing repository');
}

const SnapshotSchema = z.object({
  id: z.string(),
  short_id: z.string().optional(),
  time: z.string(),
  hostname: z.string().optional(),
  paths: z.array(z.string()).default([]),
  tags: z.array(z.string()).nullish(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

export function parseSnapshots(json: string): Snapshot[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json.trim() || '[]');
  } catch (e) {
    throw failure('restic-bad-output', 'restic snapshots --json printed something that is not JSON', undefined, e);
  }
  const r = z.array(SnapshotSchema).nullable().safeParse(raw);
  if (!r.success) throw failure('restic-bad-output', `unexpected restic snapshots output: ${r.error.issues[0]?.message ?? ''}`);
  return (r.data ?? []).sort((a, b) => a.time.localeCompare(b.time));
}

/** Snapshots of a repository, oldest first; `host` filters by the snapshot's hostname. */
export async function runResticSnapshots(run: Runner, repo: ResticRepo, host?: string, signal?: AbortSignal): Promise<Snapshot[]> {
  const r = await runRestic(run, repo, ['snapshots', '--json', ...(host ? ['--host', host] : [])], { ...(signal ? { signal } : {}) });
  return parseSnapshots(r.stdout);
}

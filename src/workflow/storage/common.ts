/** Shared by cache and backup workflows: host names, storage choice, and plan-then-apply. */
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import { applyFilePlan, planFiles, type FileAction, type PlannedFile } from '../../render/file-plan.js';
import { readHostCaCert, resolveCaPath, type HostCaCert } from '../../storage/ca-cert.js';
import { SECRETS_MODES, type SecretsMode } from '../../config/sections/secrets-mode.js';
import { buildLocalStorage, buildS3Settings, resolveStorageName, type LocalStorage, type S3Settings } from '../../storage/s3-settings.js';

export { checkHostName } from '../../host-name.js';

/**
 * Old `--secrets` values still accepted, and the mode each means. "extra-files" was the flag's name
 * for mode "none" before the flag took the config's values (issue 14); scripts written against it
 * keep working. Not advertised in help or errors.
 */
export const SECRETS_FLAG_ALIASES: ReadonlyMap<string, SecretsMode> = new Map([['extra-files', 'none']]);

/** `--secrets VALUE`: one of [sops] mode's values (or an old alias); unset, the config's mode. */
export function checkSecretsMode(value: string | undefined, fallback: SecretsMode): SecretsMode {
  if (value === undefined) return fallback;
  if ((SECRETS_MODES as readonly string[]).includes(value)) return value as SecretsMode;
  const alias = SECRETS_FLAG_ALIASES.get(value);
  if (alias !== undefined) return alias;
  throw usageError('bad-flag', `--secrets must be one of ${SECRETS_MODES.join(', ')}, got "${value}"`);
}

/** The secrets mode when --secrets is not given: bootstrap.toml's [sops] mode. */
export function defaultSecretsMode(loaded: LoadedConfig): SecretsMode {
  return loaded.config.sops.mode;
}

export function resolveStorage(loaded: LoadedConfig, wanted: string | undefined, bucket: string | undefined, purpose: string): S3Settings | LocalStorage {
  const name = resolveStorageName(loaded.config, wanted, purpose);
  const entry = loaded.config.storage[name]!;
  if (entry.provider === 'local') return buildLocalStorage(name, entry);
  const s3 = buildS3Settings(name, entry, bucket);
  // caCert is read relative to the flake (where bootstrap.toml is), not the shell's directory.
  return s3.caCert ? { ...s3, caCert: resolveCaPath(loaded.flakeDir, s3.caCert) } : s3;
}

/** The storage entry's private CA for the host's modules, read and checked; undefined without one. */
export async function loadHostCaCert(storage: S3Settings | LocalStorage): Promise<HostCaCert | undefined> {
  if (storage.provider === 'local' || !storage.caCert) return undefined;
  return readHostCaCert(storage.name, storage.caCert);
}

/** A planned file as the --json results show it: no content unless it is a dry run. */
export interface FileResult {
  path: string;
  action: FileAction;
  reason?: string;
  /** The content that would be written (dry runs only; rendered files never hold secret values). */
  content?: string;
}

/**
 * Print the plan; unless dry-run, write it. With `json`, a dry run's file contents stay out of
 * stdout (the caller puts them in its JSON document). Returns the paths written and every file's
 * action.
 */
export async function runApplyFilePlan(ctx: Pick<AppContext, 'out'>, flakeDir: string, files: PlannedFile[], o: { dryRun: boolean; json?: boolean }): Promise<{ written: string[]; files: FileResult[] }> {
  const entries = await planFiles(flakeDir, files);
  const results: FileResult[] = [];
  for (const e of entries) {
    ctx.out.info(`${o.dryRun ? 'would ' : ''}${e.action} ${e.path}${e.reason ? ` (${e.reason})` : ''}`);
    const changes = e.action === 'create' || e.action === 'update';
    if (o.dryRun && changes && !o.json) ctx.out.data(`--- ${e.path}\n${e.content}`);
    results.push({ path: e.path, action: e.action, ...(e.reason ? { reason: e.reason } : {}), ...(o.dryRun && changes ? { content: e.content } : {}) });
  }
  return { written: o.dryRun ? [] : await applyFilePlan(flakeDir, entries), files: results };
}

/** Print the plan; unless dry-run, write it. Returns the paths written. */
export async function runApplyFiles(ctx: Pick<AppContext, 'out'>, flakeDir: string, files: PlannedFile[], dryRun: boolean): Promise<string[]> {
  return (await runApplyFilePlan(ctx, flakeDir, files, { dryRun })).written;
}

/**
 * How the host gets each secret the rendered module reads, in words the user can act on. The
 * values stay in the secret store; only mode "none" delivers them by itself (at install time).
 */
/** `dir`: the host's folder in the flake (hostDir). */
export function buildDeliveryHint(mode: SecretsMode, host: string, names: string[], dir: string): string {
  const list = names.map((n) => `"${n}"`).join(', ');
  switch (mode) {
    case 'none':
      return `${list} reach ${host} at install: \`bootstrap new-host\`/\`rebuild\` put them in /var/lib/bootstrap/secrets through --extra-files`;
    case 'sops':
      return `add ${list} to ${host}'s sops file (sops.defaultSopsFile, e.g. ${dir}/secrets.yaml) with the values from the secret store, e.g. \`sops set --value-file FILE '["NAME"]' VALUE_FILE\` (sops 3.10+), then deploy`;
    case 'agenix':
      return `encrypt ${list} to ${host}'s key as .age files, declare age.secrets.NAME.file for each, then deploy`;
  }
}

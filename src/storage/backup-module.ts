/**
 * Pure: hosts/HOST/backup.nix, a services.restic.backups entry rendered for the NixOS release
 * the flake pins, because the module's options changed across releases:
 *   < 21.11  credentials file option is `s3CredentialsFile` (later `environmentFile`)
 *   < 23.05  no `exclude` option: excludes go through `extraBackupArgs` (nixpkgs#204386)
 *   < 22.11  no `checkOpts`
 *   ≥ 24.05  `runCheck` decides whether `restic check` runs (nixpkgs#302908); before, check ran
 *            with `checkOpts` after every prune. 24.05 also adds the `restic-NAME` wrapper that
 *            `bootstrap recover` runs over SSH to restore.
 */
import { nixModule, type NixAttrs } from '../nix/serialize.js';
import type { PlannedFile } from '../render/file-plan.js';
import type { SecretsMode } from '../config/sections/secrets-mode.js';
import { buildSecretDeclarations, buildSecretPath, secretsModeHeaderWord } from './host-secrets.js';
import { buildCaTrust, type HostCaCert } from './ca-cert.js';

export const RESTIC_PASSWORD_SECRET = 'restic-password';
export const RESTIC_ENV_SECRET = 'restic-env';
/** services.restic.backups.<name>; the host gets the `restic-bootstrap` wrapper from it. */
export const BACKUP_NAME = 'bootstrap';
/** Rendered for when the flake pins nothing we can read. */
export const DEFAULT_RELEASE = '25.05';

export interface BackupPlan {
  host: string;
  /** The host's folder in the flake (config/host-dir.ts hostDir). */
  hostDir: string;
  repository: string;
  /** Local repositories need no S3 environment file. */
  s3: boolean;
  paths: string[];
  exclude: string[];
  onCalendar: string;
  pruneOpts: string[];
  release: string;
  secretsMode: SecretsMode;
  /** The storage entry's private CA, rendered next to backup.nix and trusted system-wide (restic reads the system bundle). */
  caCert?: HostCaCert;
}

/** "24.05" → 2405; "unstable" sorts after every release. */
export function releaseNumber(release: string): number {
  if (release === 'unstable') return 9999;
  const m = /^(\d{2})\.(\d{2})$/.exec(release);
  if (!m) throw new TypeError(`not a NixOS release: ${release}`);
  return Number(m[1]) * 100 + Number(m[2]);
}

/**
 * The nixpkgs release a flake.lock pins: the `ref` of the root's nixpkgs input
 * (nixos-24.05, nixos-24.05-small, release-24.05, nixpkgs-24.05-darwin, nixos-unstable).
 * Undefined when there is no such input or ref (e.g. a rev-only pin).
 */
export function parseNixpkgsRelease(flakeLock: string): string | undefined {
  let lock: { root?: string; nodes?: Record<string, { inputs?: Record<string, unknown>; original?: { ref?: string } }> };
  try {
    lock = JSON.parse(flakeLock);
  } catch {
    return undefined;
  }
  const nodes = lock.nodes ?? {};
  const root = nodes[lock.root ?? 'root'];
  const input = root?.inputs?.nixpkgs;
  const nodeName = typeof input === 'string' ? input : Array.isArray(input) ? String(input[0]) : 'nixpkgs';
  const ref = nodes[nodeName]?.original?.ref;
  if (!ref) return undefined;
  if (/unstable|master/.test(ref)) return 'unstable';
  const m = /(\d{2}\.\d{2})/.exec(ref);
  return m ? m[1] : undefined;
}

export function buildBackupSettings(p: BackupPlan): NixAttrs {
  const n = releaseNumber(p.release);
  const envPath = p.s3 ? buildSecretPath(p.secretsMode, RESTIC_ENV_SECRET) : undefined;
  const noWhitespace = p.exclude.every((e) => !/\s/.test(e));
  if (n < 2305 && !noWhitespace) throw new TypeError('excludes with spaces need NixOS 23.05 or later (extraBackupArgs is split on spaces)');
  return {
    repository: p.repository,
    initialize: true,
    passwordFile: buildSecretPath(p.secretsMode, RESTIC_PASSWORD_SECRET),
    [n < 2111 ? 's3CredentialsFile' : 'environmentFile']: envPath,
    paths: p.paths,
    exclude: n >= 2305 ? p.exclude : undefined,
    extraBackupArgs: n < 2305 && p.exclude.length ? p.exclude.map((e) => `--exclude=${e}`) : undefined,
    // systemd accepts these as strings in every release (the option was attrsOf str before 22.11).
    timerConfig: { OnCalendar: p.onCalendar, Persistent: 'true', RandomizedDelaySec: '1h' },
    pruneOpts: p.pruneOpts,
    runCheck: n >= 2405 ? true : undefined,
    checkOpts: n >= 2211 ? ['--read-data-subset=5%'] : undefined,
  };
}

export function buildBackupModule(p: BackupPlan): PlannedFile {
  const content = nixModule({
    args: ['config', '...'],
    header: [
      `restic backups of ${p.host}, rendered for NixOS ${p.release} by \`bootstrap backup setup\`; regenerated.`,
      `Password and S3 keys come from the ${secretsModeHeaderWord(p.secretsMode)} secrets "${RESTIC_PASSWORD_SECRET}" and "${RESTIC_ENV_SECRET}".`,
      ...(p.caCert ? [`The S3 endpoint's private CA (${p.caCert.fileName}) is added to the system trust store restic reads.`] : []),
    ],
    body: {
      services: { restic: { backups: { [BACKUP_NAME]: buildBackupSettings(p) } } },
      ...buildSecretDeclarations(p.secretsMode, p.s3 ? [RESTIC_PASSWORD_SECRET, RESTIC_ENV_SECRET] : [RESTIC_PASSWORD_SECRET]),
      ...buildCaTrust(p.caCert),
    },
  });
  return { path: `${p.hostDir}/backup.nix`, content, owner: 'tool' };
}

/**
 * What the install steps share. Built once by the command (new-host, rebuild, recover) after every
 * question is answered; the steps read it and never ask anything. Keys and the secret tree are
 * loaded lazily and memoized, so a resumed run that skips the keys step still has them.
 */
import type { AppContext } from '../../context.js';
import type { HostKeys } from '../../keys/host-keys.js';
import type { NixosAnywhereCommand, Phase } from '../../nix/nixos-anywhere.js';
import type { InstallerSession } from '../../installer/installer-session.js';
import type { InstallLog } from '../../installer/run-phases.js';
import type { ExtraFilesResult } from '../../installer/extra-files.js';
import type { SecretStore } from '../../secrets/store.js';
import type { StepContext } from '../step.js';
import type { BuildResult } from './preflight-nix.js';
import type { PreparedInstall } from './prepare.js';
import type { PhaseTransfer } from '../../installer/transfer.js';
import type { ClosureSource } from './closure-cache.js';

/** What this run sent from here, per installer phase, and where the closure came from (issue 20). */
export interface InstallTransfer {
  closure?: ClosureSource;
  phases: Partial<Record<Phase, PhaseTransfer>>;
}

export type InstallMode = 'new-host' | 'rebuild' | 'recover';
export type IdentityMode = 'provisioned' | 'copy-target-keys';

/** The prepared install (plan, answers, target) plus what the runner provides for one run. */
export interface InstallCtx extends PreparedInstall, StepContext {
  app: AppContext;
  /** Set by the runner: the 0700 directory for keys handed to the installer. */
  secretDir: string;
  installer: NixosAnywhereCommand;
  log: InstallLog;
  /** The secret store, opened once per run. */
  store(): Promise<SecretStore>;
  /** The host keys: created by the keys step, read back (never created) by later steps. */
  keys(): Promise<HostKeys>;
  /** The extra-files tree, written on first use inside secretDir. */
  extraFiles(): Promise<ExtraFilesResult>;
  /** Fingerprints of keys the target presented before the installed system came up (in order). */
  earlierKeys: Set<string>;
  /** Where earlierKeys are kept between runs (--resume). */
  earlierKeysPath: string;
  /** Where preflight's build is kept between runs (--resume). */
  builtPath: string;
  /** What preflight built: this run's, or an earlier run's when its store paths still exist. */
  built(): Promise<BuildResult>;
  /** Record the run's installer group in the host lock, so a run after a kill -9 can stop it. */
  recordInstaller(pgid: number): void;
  /** Filled by the phase steps: bytes sent per phase, and the closure's source. */
  transfer: InstallTransfer;
  /** The one installer call of this run, started by the first phase step that runs. */
  installerSession(first: Phase): Promise<InstallerSession>;
}

/** Memoize an async loader: one call, one result, shared by every step of the run. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load());
}

/** What the host's keys consist of, from the plan and bootstrap.toml. Pure. */
export function buildKeyOptions(p: Pick<PreparedInstall, 'plan' | 'loaded'>): { luks: boolean; separateAgeKey: boolean; sharedAgeKey: boolean } {
  return { luks: p.plan.layout.encrypted, ...buildSeparateKeyOptions(p.loaded.config.sops) };
}

/** [sops] separateKeyPath / separateKeyShared → which independent age key a host gets. Pure. */
export function buildSeparateKeyOptions(sops: { separateKeyPath?: string | undefined; separateKeyShared?: boolean }): { separateAgeKey: boolean; sharedAgeKey: boolean } {
  const separateAgeKey = sops.separateKeyPath !== undefined;
  return { separateAgeKey, sharedAgeKey: separateAgeKey && sops.separateKeyShared === true };
}

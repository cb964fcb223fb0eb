/**
 * The installer call of a prepared install, as data: one pure function used by the run and by
 * --dry-run, so the plan shows exactly what will run.
 */
import { PHASES, type NixosAnywhereOptions, type Phase } from '../../nix/nixos-anywhere.js';
import { DEFAULT_PHASE_TIMEOUTS_MS, parsePhaseTimeouts } from '../../installer/installer-session.js';
import type { BuildResult } from './preflight-nix.js';
import type { PreparedInstall } from './prepare.js';

export const DEFAULT_POST_KEXEC_PORT = 22;

export interface InstallerFiles {
  extraFilesDir?: string;
  diskEncryptionKeyFile?: string;
  /**
   * Files for the installer itself (the binary cache's nix.conf and netrc, closure-cache.ts).
   * nixos-anywhere's one way to put a local file at a path of the installer after kexec and before
   * any `nix copy` is --disk-encryption-keys REMOTE LOCAL (`cat > REMOTE` under umask 077, in the
   * disko phase), so they go through it.
   */
  installerUploads?: { remotePath: string; localPath: string }[];
  /** For a downloaded kexec image (url/cache): the small tarball that checks and boots it (kexec-delivery.ts). */
  kexecTarball?: string;
}

/** The phases one call runs when the run starts (or resumes) at `first`. Pure. */
export function planInstallerPhases(first: Phase): Phase[] {
  return PHASES.slice(PHASES.indexOf(first));
}

/**
 * Where the call's first connection goes: the target's own port while kexec is still to run (or
 * the target is an installer already), the installer's port after kexec. Pure.
 */
export function planConnectPort(p: Pick<PreparedInstall, 'target' | 'report' | 'answers'>, phases: readonly Phase[]): number {
  if (phases.includes('kexec') || p.report.os.isInstaller) return p.target.port;
  return planPostKexecPort(p);
}

/** The port the kexec installer listens on. Pure. */
export function planPostKexecPort(p: Pick<PreparedInstall, 'answers'>): number {
  return p.answers.postKexecPort ?? DEFAULT_POST_KEXEC_PORT;
}

/** Per-phase limits: defaults, then the manifest's/answers'. */
export function planPhaseTimeouts(p: Pick<PreparedInstall, 'answers'>): Record<Phase, number> {
  return { ...DEFAULT_PHASE_TIMEOUTS_MS, ...parsePhaseTimeouts(p.answers.phaseTimeouts ?? {}) };
}

export function buildInstallerOptions(p: PreparedInstall, phases: readonly Phase[], built: BuildResult, files: InstallerFiles, o: { debug?: boolean } = {}): NixosAnywhereOptions {
  const connectPort = planConnectPort(p, phases);
  return {
    flake: p.flakeDir,
    host: p.host,
    target: p.target,
    ...(built.kind === 'local' ? { storePaths: built.paths } : { buildOn: 'remote' as const, ...(p.answers.noDiskoDeps ? { noDiskoDeps: true } : {}) }),
    ...(connectPort !== p.target.port ? { connectPort } : {}),
    postKexecPort: planPostKexecPort(p),
    ...(p.target.identityFile ? { identityFile: p.target.identityFile } : {}),
    ...(files.extraFilesDir ? { extraFilesDir: files.extraFilesDir } : {}),
    ...(p.identity === 'copy-target-keys' ? { copyHostKeys: true } : {}),
    ...(files.diskEncryptionKeyFile || files.installerUploads?.length
      ? { diskEncryptionKeys: [...(files.diskEncryptionKeyFile ? [{ remotePath: '/tmp/secret.key', localPath: files.diskEncryptionKeyFile }] : []), ...(files.installerUploads ?? [])] }
      : {}),
    ...(p.ssh.passwordEnv ? { envPassword: true } : {}),
    ...(p.answers.kexecImage ? { kexecImage: p.answers.kexecImage } : files.kexecTarball ? { kexecImage: files.kexecTarball } : {}),
    ...(o.debug ? { debug: true } : {}),
  };
}

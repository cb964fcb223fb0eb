/**
 * The nixos-anywhere command, built by small pure `addX(argv, opts)` functions (clan-cli's
 * nixos_anywhere.py style) and checked against the real tool's parser (src/nixos-anywhere.sh of
 * nix-community/nixos-anywhere 1.13, parseArgs()). Flags used and their arity there:
 *   --store-paths DISKO TOPLEVEL | --flake URI#ATTR, --target-host DEST, -i FILE, -p PORT,
 *   --post-kexec-ssh-port PORT, --ssh-option K=V (appended as `-o`), --extra-files DIR,
 *   --copy-host-keys, --disk-encryption-keys REMOTE LOCAL, --build-on auto|local|remote,
 *   --phases kexec,disko,install,reboot, --no-disko-deps, --env-password, --option KEY VALUE, --debug.
 *
 * One call runs every phase that is left, so the script switches user (nixos@ → root@) and port
 * (after kexec) itself, and uploads its key and gathers facts once. The system is built before the
 * call (preflight), so the call gets --store-paths and evaluates nothing.
 *
 * The tool puts `-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no` before any
 * --ssh-option and ssh(1) keeps the first value it sees, so host keys are pinned by the ssh guard
 * put ahead of ssh on the tool's PATH (src/install/ssh-guard.ts), not by options here.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { failure, usageError } from '../errors.js';
import { sshDestination, type SshTarget } from '../ssh/target.js';
import { NIXOS_ANYWHERE_FLAKE, NIXOS_ANYWHERE_PIN, nixosAnywhereVersionFromPath } from './pinned-installer.js';
import type { ResolvedTarget } from '../ssh/ssh-config.js';

import type { Phase } from './phases.js';
export { PHASES, type Phase } from './phases.js';
export type BuildOn = 'auto' | 'local' | 'remote';

export interface NixosAnywhereOptions {
  /** Flake directory or URI, without `#`. */
  flake: string;
  /** nixosConfigurations attribute. */
  host: string;
  /** What preflight built: the call then builds and evaluates nothing. */
  storePaths?: { disko: string; toplevel: string };
  target: SshTarget;
  /** The port of the first connection when it is not target.port (a resumed run after kexec). */
  connectPort?: number;
  /** The port the kexec installer's sshd listens on (the tool's default is 22). */
  postKexecPort?: number;
  /** Private key for the target (default: target.identityFile). */
  identityFile?: string;
  extraFilesDir?: string;
  copyHostKeys?: boolean;
  /** --disk-encryption-keys REMOTE LOCAL, e.g. /tmp/secret.key → our 0600 file. */
  diskEncryptionKeys?: { remotePath: string; localPath: string }[];
  buildOn?: BuildOn;
  /** ssh -o options as `Key=value`. */
  sshOptions?: string[];
  noDiskoDeps?: boolean;
  /** The password for ssh-copy-id comes from $SSHPASS (the tool runs `sshpass -e`). */
  envPassword?: boolean;
  /** --kexec FILE: a local kexec tarball the tool uploads (checked against its pin before the call). */
  kexecImage?: string;
  /** nix --option KEY VALUE, passed to every nix call of the tool. */
  nixOptions?: Record<string, string>;
  debug?: boolean;
}

const SSH_OPTION_RE = /^[A-Za-z][A-Za-z0-9]*=[^\s]+$/;
const ATTR_RE = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

function assertNotFlag(what: string, value: string): void {
  if (value === '' || value.startsWith('-')) throw usageError('bad-argument', `${what} "${value}" would be read as a flag by nixos-anywhere`, `give a path or value that does not start with "-"`);
}

export function addFlake(argv: string[], o: Pick<NixosAnywhereOptions, 'flake' | 'host'>): string[] {
  if (o.flake.includes('#')) throw usageError('bad-flake', `flake "${o.flake}" already contains "#"`, 'give the flake directory; the host is added as #HOST');
  if (!ATTR_RE.test(o.host)) throw usageError('bad-host', `"${o.host}" is not a nixosConfigurations attribute name`, 'use letters, digits, "-" and "_"');
  assertNotFlag('flake', o.flake);
  return [...argv, '--flake', `${o.flake}#${o.host}`];
}

export function addStorePaths(argv: string[], o: Required<Pick<NixosAnywhereOptions, 'storePaths'>>): string[] {
  assertNotFlag('disko script', o.storePaths.disko);
  assertNotFlag('system closure', o.storePaths.toplevel);
  return [...argv, '--store-paths', o.storePaths.disko, o.storePaths.toplevel];
}

/**
 * --target-host user@host and -p PORT when it is not 22. A call that runs kexec starts on the
 * target's port and tells the tool the installer's (--post-kexec-ssh-port); a call after kexec
 * starts on `connectPort`.
 */
export function addTarget(argv: string[], o: Pick<NixosAnywhereOptions, 'target' | 'connectPort' | 'postKexecPort'>, withKexec = true): string[] {
  const port = withKexec ? o.target.port : (o.connectPort ?? o.target.port);
  const switchPort = withKexec && o.postKexecPort !== undefined && o.postKexecPort !== 22;
  // A target the ssh config knows by an alias keeps the alias, so the script's ssh applies the same
  // config (IdentityFile, IdentityAgent; the route goes through our ssh guard), with the resolved
  // user and port written out (the command line wins over the config).
  const alias = (o.target as ResolvedTarget).alias;
  const next = [...argv, '--target-host', sshDestination(alias ? { ...o.target, host: alias } : o.target)];
  // The script applies --post-kexec-ssh-port by rewriting the value after an existing `-p`, so the
  // switch needs an explicit `-p` even for port 22.
  const withPort = port === 22 && !switchPort && !alias ? next : [...next, '-p', String(port)];
  return switchPort ? [...withPort, '--post-kexec-ssh-port', String(o.postKexecPort)] : withPort;
}

export function addIdentity(argv: string[], o: Pick<NixosAnywhereOptions, 'identityFile' | 'target'>): string[] {
  const key = o.identityFile ?? o.target.identityFile;
  if (!key) return argv;
  assertNotFlag('identity file', key);
  return [...argv, '-i', key];
}

export function addSshOptions(argv: string[], o: Pick<NixosAnywhereOptions, 'sshOptions'>): string[] {
  const out = [...argv];
  for (const opt of o.sshOptions ?? []) {
    if (!SSH_OPTION_RE.test(opt)) throw usageError('bad-ssh-option', `ssh option "${opt}" is not Key=value`, 'write ssh options as Key=value, e.g. ConnectTimeout=10');
    out.push('--ssh-option', opt);
  }
  return out;
}

export function addExtraFiles(argv: string[], o: Pick<NixosAnywhereOptions, 'extraFilesDir'>): string[] {
  if (!o.extraFilesDir) return argv;
  assertNotFlag('extra files directory', o.extraFilesDir);
  return [...argv, '--extra-files', o.extraFilesDir];
}

export function addCopyHostKeys(argv: string[], o: Pick<NixosAnywhereOptions, 'copyHostKeys'>): string[] {
  return o.copyHostKeys ? [...argv, '--copy-host-keys'] : argv;
}

export function addDiskEncryptionKeys(argv: string[], o: Pick<NixosAnywhereOptions, 'diskEncryptionKeys'>): string[] {
  const out = [...argv];
  for (const k of o.diskEncryptionKeys ?? []) {
    if (!k.remotePath.startsWith('/')) throw usageError('bad-argument', `disk encryption key path "${k.remotePath}" on the target is not absolute`, 'use the path your disko config reads, e.g. /tmp/secret.key');
    assertNotFlag('disk encryption key file', k.localPath);
    out.push('--disk-encryption-keys', k.remotePath, k.localPath);
  }
  return out;
}

export function addBuildOn(argv: string[], o: Pick<NixosAnywhereOptions, 'buildOn'>): string[] {
  return o.buildOn ? [...argv, '--build-on', o.buildOn] : argv;
}

export function addKexecImage(argv: string[], o: Pick<NixosAnywhereOptions, 'kexecImage'>): string[] {
  if (!o.kexecImage) return argv;
  assertNotFlag('kexec image', o.kexecImage);
  return [...argv, '--kexec', o.kexecImage];
}

export function addPhases(argv: string[], phases: readonly Phase[]): string[] {
  return [...argv, '--phases', phases.join(',')];
}

export function addNoDiskoDeps(argv: string[], o: Pick<NixosAnywhereOptions, 'noDiskoDeps'>): string[] {
  return o.noDiskoDeps ? [...argv, '--no-disko-deps'] : argv;
}

export function addEnvPassword(argv: string[], o: Pick<NixosAnywhereOptions, 'envPassword'>): string[] {
  return o.envPassword ? [...argv, '--env-password'] : argv;
}

export function addNixOptions(argv: string[], o: Pick<NixosAnywhereOptions, 'nixOptions'>): string[] {
  const out = [...argv];
  for (const [k, v] of Object.entries(o.nixOptions ?? {})) out.push('--option', k, v);
  return out;
}

export function addDebug(argv: string[], o: Pick<NixosAnywhereOptions, 'debug'>): string[] {
  return o.debug ? [...argv, '--debug'] : argv;
}

/**
 * The argv of one call that runs `phases` (the phases left, in order). With store paths the call
 * builds nothing: --build-on and --no-disko-deps only matter without them (preflight built the
 * NoDeps script already when asked).
 */
export function buildInstallerArgv(prefix: readonly string[], o: NixosAnywhereOptions, phases: readonly Phase[]): string[] {
  if (phases.length === 0) throw new Error('buildInstallerArgv: no phases');
  let argv = [...prefix];
  argv = o.storePaths ? addStorePaths(argv, { storePaths: o.storePaths }) : addFlake(argv, o);
  argv = addTarget(argv, o, phases.includes('kexec'));
  argv = addIdentity(argv, o);
  argv = addSshOptions(argv, o);
  if (!o.storePaths) argv = addNoDiskoDeps(addBuildOn(argv, o), o);
  argv = addPhases(argv, phases);
  if (phases.includes('kexec')) argv = addKexecImage(argv, o);
  if (phases.includes('disko')) argv = addDiskEncryptionKeys(argv, o);
  if (phases.includes('install')) argv = addCopyHostKeys(addExtraFiles(argv, o), o);
  argv = addEnvPassword(argv, o);
  argv = addNixOptions(argv, o);
  argv = addDebug(argv, o);
  return argv;
}

export interface NixosAnywhereCommand {
  /** argv prefix: ["/usr/bin/nixos-anywhere"] or ["nix", …, "run", "github:…/REV", "--"]. */
  prefix: string[];
  via: 'path' | 'nix-run';
  /** The version of the one on PATH when its store path names it (via 'path' only). */
  version?: string;
}

function defaultIsExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string, env: NodeJS.ProcessEnv, isExecutable = defaultIsExecutable): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export { NIXOS_ANYWHERE_FLAKE } from './pinned-installer.js';

function defaultRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * nixos-anywhere from PATH, else the pinned revision through `nix run`, else a failure saying how
 * to get either.
 * @throws failure 'missing-tool'
 */
export function locateNixosAnywhere(env: NodeJS.ProcessEnv, isExecutable = defaultIsExecutable, realpath = defaultRealpath): NixosAnywhereCommand {
  const direct = findOnPath('nixos-anywhere', env, isExecutable);
  if (direct) {
    const version = nixosAnywhereVersionFromPath(realpath(direct));
    return { prefix: [direct], via: 'path', ...(version ? { version } : {}) };
  }
  const nix = findOnPath('nix', env, isExecutable);
  if (nix) return { prefix: [nix, '--extra-experimental-features', 'nix-command flakes', 'run', NIXOS_ANYWHERE_FLAKE, '--'], via: 'nix-run' };
  throw failure(
    'missing-tool',
    'neither nixos-anywhere nor nix was found on PATH',
    `install Nix ≥ 2.16 (https://nixos.org/download) so the pinned nixos-anywhere can run through \`nix run ${NIXOS_ANYWHERE_FLAKE}\`, or install nixos-anywhere (nix profile install ${NIXOS_ANYWHERE_FLAKE})`,
  );
}

/** A warning when the nixos-anywhere on PATH is known to be another version than the pinned one. Pure. */
export function installerVersionWarning(cmd: NixosAnywhereCommand): string | undefined {
  if (cmd.via !== 'path' || !cmd.version || cmd.version === NIXOS_ANYWHERE_PIN.version) return undefined;
  return `nixos-anywhere on PATH is ${cmd.version} (${cmd.prefix[0]}); bootstrap is tested with ${NIXOS_ANYWHERE_PIN.describe}: another version may parse flags or boot another kexec image; remove it from PATH and bootstrap runs the pinned one through \`nix run\``;
}

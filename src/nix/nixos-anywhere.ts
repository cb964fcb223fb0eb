/**
 * The nixos-anywhere command, built by small pure `addX(argv, opts)` functions (clan-cli's
 * nixos_anywhere.py style) and checked against the real tool's parser (src/nixos-anywhere.sh of
 * nix-community/nixos-anywhere, parseArgs()). Flags used and their arity there:
 *   --flake URI#ATTR, --target-host DEST, -i FILE, -p PORT, --ssh-option K=V (appended as `-o`),
 *   --extra-files DIR, --copy-host-keys, --disk-encryption-keys REMOTE LOCAL, --build-on
 *   auto|local|remote, --generate-hardware-config nixos-facter|nixos-generate-config PATH,
 *   --phases kexec,disko,install,reboot, --no-disko-deps, --option KEY VALUE, --debug.
 *
 * Note: the tool puts `-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no` before any
 * --ssh-option, and ssh(1) keeps the first value it sees, so a UserKnownHostsFile given here does
 * not pin the key for the tool's own connections. Our pinning happens in our own SSH checks
 * before and after the phases (src/install/wait-host-key.ts).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { failure, usageError } from '../errors.js';
import { sshDestination, type SshTarget } from '../ssh/target.js';

export const PHASES = ['kexec', 'disko', 'install', 'reboot'] as const;
export type Phase = (typeof PHASES)[number];
export type BuildOn = 'auto' | 'local' | 'remote';
export type HardwareConfigBackend = 'nixos-facter' | 'nixos-generate-config';

export interface NixosAnywhereOptions {
  /** Flake directory or URI, without `#`. */
  flake: string;
  /** nixosConfigurations attribute. */
  host: string;
  target: SshTarget;
  /** Private key for the target (default: target.identityFile). */
  identityFile?: string;
  extraFilesDir?: string;
  copyHostKeys?: boolean;
  /** --disk-encryption-keys REMOTE LOCAL, e.g. /tmp/secret.key → our 0600 file. */
  diskEncryptionKeys?: { remotePath: string; localPath: string }[];
  buildOn?: BuildOn;
  /** ssh -o options as `Key=value`. */
  sshOptions?: string[];
  /** Shorthand for the UserKnownHostsFile ssh option. */
  knownHostsFile?: string;
  hardwareConfig?: { backend: HardwareConfigBackend; path: string };
  /**
   * The port the kexec installer's sshd listens on (the tool's --post-kexec-ssh-port, 22 by
   * default). Set it when the target's port is not 22 and kexec really switches systems: the
   * later phases then connect there. Leave it unset for a target that already is an installer.
   */
  afterKexecPort?: number;
  noDiskoDeps?: boolean;
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

/**
 * --target-host user@host and -p PORT when it is not 22 (the tool passes -p to ssh). Phases after
 * kexec connect to the installer's port; the kexec phase tells the tool that port.
 */
export function addTarget(argv: string[], o: Pick<NixosAnywhereOptions, 'target' | 'afterKexecPort'>, phase?: Phase): string[] {
  const afterKexec = o.afterKexecPort !== undefined && phase !== undefined && phase !== 'kexec';
  const port = afterKexec ? o.afterKexecPort! : o.target.port;
  const next = [...argv, '--target-host', sshDestination(o.target)];
  const withPort = port === 22 ? next : [...next, '-p', String(port)];
  if (phase === 'kexec' && o.afterKexecPort !== undefined && o.afterKexecPort !== 22) {
    return [...withPort, '--post-kexec-ssh-port', String(o.afterKexecPort)];
  }
  return withPort;
}

export function addIdentity(argv: string[], o: Pick<NixosAnywhereOptions, 'identityFile' | 'target'>): string[] {
  const key = o.identityFile ?? o.target.identityFile;
  if (!key) return argv;
  assertNotFlag('identity file', key);
  return [...argv, '-i', key];
}

export function addSshOptions(argv: string[], o: Pick<NixosAnywhereOptions, 'sshOptions' | 'knownHostsFile'>): string[] {
  const opts = [...(o.knownHostsFile ? [`UserKnownHostsFile=${o.knownHostsFile}`] : []), ...(o.sshOptions ?? [])];
  const out = [...argv];
  for (const opt of opts) {
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

export function addHardwareConfig(argv: string[], o: Pick<NixosAnywhereOptions, 'hardwareConfig'>): string[] {
  if (!o.hardwareConfig) return argv;
  assertNotFlag('hardware config path', o.hardwareConfig.path);
  return [...argv, '--generate-hardware-config', o.hardwareConfig.backend, o.hardwareConfig.path];
}

export function addPhases(argv: string[], phases: readonly Phase[]): string[] {
  return [...argv, '--phases', phases.join(',')];
}

export function addNoDiskoDeps(argv: string[], o: Pick<NixosAnywhereOptions, 'noDiskoDeps'>): string[] {
  return o.noDiskoDeps ? [...argv, '--no-disko-deps'] : argv;
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
 * The argv for one phase. The hardware report is generated only with the kexec phase: the tool
 * runs nixos-facter whenever the flag is present, and once, right after kexec, is enough.
 */
export function buildPhaseArgv(prefix: readonly string[], o: NixosAnywhereOptions, phase: Phase): string[] {
  let argv = [...prefix];
  argv = addFlake(argv, o);
  argv = addTarget(argv, o, phase);
  argv = addIdentity(argv, o);
  argv = addSshOptions(argv, o);
  argv = addBuildOn(argv, o);
  argv = addPhases(argv, [phase]);
  if (phase === 'kexec') argv = addHardwareConfig(argv, o);
  if (phase === 'disko') argv = addDiskEncryptionKeys(argv, o);
  if (phase === 'disko') argv = addNoDiskoDeps(argv, o);
  if (phase === 'install') argv = addExtraFiles(argv, o);
  if (phase === 'install') argv = addCopyHostKeys(argv, o);
  argv = addNixOptions(argv, o);
  argv = addDebug(argv, o);
  return argv;
}

export interface NixosAnywhereCommand {
  /** argv prefix: ["/usr/bin/nixos-anywhere"] or ["nix", …, "run", "github:…", "--"]. */
  prefix: string[];
  via: 'path' | 'nix-run';
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

export const NIXOS_ANYWHERE_FLAKE = 'github:nix-community/nixos-anywhere';

/**
 * nixos-anywhere from PATH, else through `nix run`, else a failure saying how to get either.
 * @throws failure 'missing-tool'
 */
export function locateNixosAnywhere(env: NodeJS.ProcessEnv, isExecutable = defaultIsExecutable): NixosAnywhereCommand {
  const direct = findOnPath('nixos-anywhere', env, isExecutable);
  if (direct) return { prefix: [direct], via: 'path' };
  const nix = findOnPath('nix', env, isExecutable);
  if (nix) return { prefix: [nix, '--extra-experimental-features', 'nix-command flakes', 'run', NIXOS_ANYWHERE_FLAKE, '--'], via: 'nix-run' };
  throw failure(
    'missing-tool',
    'neither nixos-anywhere nor nix was found on PATH',
    'install Nix (https://nixos.org/download) so nixos-anywhere can run through `nix run`, or install nixos-anywhere (nix profile install github:nix-community/nixos-anywhere)',
  );
}

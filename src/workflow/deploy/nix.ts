/**
 * The nix calls of a deploy, as argv (pure): build the host's toplevel here (or evaluate here and
 * build on the host, --build-on remote) and copy its closure to the host over ssh-ng, letting the
 * host substitute what its caches have (--substitute-on-destination). ssh options reach nix only
 * through NIX_SSHOPTS, which nix splits on spaces: the pinned known_hosts file makes the copy
 * refuse any host key but the pinned one, as every other connection of bootstrap does.
 */
import { buildConfigAttr, NIX_FLAKES } from '../../installer/build-first.js';
import { failure } from '../../errors.js';
import { sshDestination, type SshTarget } from '../../ssh/target.js';
import { STORE_PATH_RE } from './remote.js';

export function buildToplevelArgv(flakeDir: string, host: string, remote?: SshTarget): string[] {
  return [
    'nix', ...NIX_FLAKES, 'build', '--no-link', '--json',
    ...(remote ? ['--eval-store', 'auto', '--store', `ssh-ng://${sshDestination(remote)}`] : []),
    buildConfigAttr(flakeDir, host, 'system.build.toplevel'),
  ];
}

export function buildCopyArgv(target: SshTarget, path: string): string[] {
  return ['nix', ...NIX_FLAKES, 'copy', '--substitute-on-destination', '--to', `ssh-ng://${sshDestination(target)}`, path];
}

/** NIX_SSHOPTS for the pinned target; `-F` the ssh config its route came from (issue 20). Pure. */
export function buildNixSshOpts(target: SshTarget & { sshConfig?: string }, pinFile: string): string {
  for (const v of [pinFile, target.identityFile ?? '', target.sshConfig ?? '']) {
    if (/\s/.test(v)) throw failure('bad-path', `nix splits NIX_SSHOPTS on spaces, so ${JSON.stringify(v)} cannot be passed to it`, 'use a path without spaces (a symlink will do)');
  }
  return [
    ...(target.sshConfig ? ['-F', target.sshConfig] : []),
    '-p', String(target.port), '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${pinFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null',
    ...(target.identityFile ? ['-i', target.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
  ].join(' ');
}

/** `nix build --json` of one attribute → its out path. */
export function parseToplevelJson(stdout: string): string {
  try {
    const out = (JSON.parse(stdout) as Array<{ outputs?: { out?: unknown } }>)[0]?.outputs?.out;
    if (typeof out === 'string' && STORE_PATH_RE.test(out)) return out;
  } catch {
    /* reported below */
  }
  throw failure('build-output', 'nix build did not report the system it built', 'run the build by hand with --json to see why');
}

/**
 * The nix calls of a deploy, as argv (pure): build the host's toplevel here (or evaluate here and
 * build on the host, --build-on remote) and copy its closure to the host over ssh-ng, letting the
 * host substitute what its caches have (--substitute-on-destination).
 *
 * nix runs `ssh DEST -x -a $NIX_SSHOPTS nix-daemon --stdio` with the `ssh` first on its PATH: the
 * ssh guard (installer/ssh-guard.ts, nix-route.ts), which pins the target's and every jump host's
 * key and takes the route of the ssh config (ProxyJump through the guard itself). NIX_SSHOPTS
 * carries only the port, batch mode and the login key; nix splits it on spaces.
 *
 * The store URI: DEST is `user@host`, the alias when the ssh config knows the host by one (so ssh
 * applies its IdentityFile/IdentityAgent, as the installer's ssh does), an IPv6 address in
 * brackets. Nix parses the authority as a URL: nix 2.3-2.30 strip the brackets before calling ssh
 * (extractConnStr, NixOS/nix#4319; 2.8 here turns ssh-ng://root@[::1] into `ssh root@::1`), and
 * 2.31 reads `user@host:port`, so an unbracketed address loses its last group to the port
 * (NixOS/nix#13937). The port stays in NIX_SSHOPTS (`-p`), which every version passes.
 */
import { buildConfigAttr, NIX_FLAKES } from '../../installer/build-first.js';
import { failure } from '../../errors.js';
import type { ResolvedTarget } from '../../ssh/ssh-config.js';
import { isIpv6, type SshTarget } from '../../ssh/target.js';
import { STORE_PATH_RE } from './remote.js';

/** `ssh-ng://user@host`, the alias when there is one, IPv6 in brackets, no port. Pure. */
export function buildStoreUri(target: SshTarget): string {
  const host = (target as ResolvedTarget).alias ?? target.host;
  return `ssh-ng://${target.user}@${isIpv6(host) ? `[${host}]` : host}`;
}

export function buildToplevelArgv(flakeDir: string, host: string, remote?: SshTarget): string[] {
  return [
    'nix', ...NIX_FLAKES, 'build', '--no-link', '--json',
    ...(remote ? ['--eval-store', 'auto', '--store', buildStoreUri(remote)] : []),
    buildConfigAttr(flakeDir, host, 'system.build.toplevel'),
  ];
}

export function buildCopyArgv(target: SshTarget, path: string): string[] {
  return ['nix', ...NIX_FLAKES, 'copy', '--substitute-on-destination', '--to', buildStoreUri(target), path];
}

/** NIX_SSHOPTS for the target: its port, no questions, the login key. The pins are the guard's. Pure. */
export function buildNixSshOpts(target: SshTarget): string {
  const key = target.identityFile;
  if (key && /\s/.test(key)) throw failure('bad-path', `nix splits NIX_SSHOPTS on spaces, so ${JSON.stringify(key)} cannot be passed to it`, 'use a path without spaces (a symlink will do)');
  return ['-p', String(target.port), '-o', 'BatchMode=yes', ...(key ? ['-i', key, '-o', 'IdentitiesOnly=yes'] : [])].join(' ');
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

/**
 * [ssh] config (issue 20): the ssh_config(5) file a host was installed through (--ssh-config), so
 * later runs (status, deploy, rebuild, recover, rescue, fleet) find the same route: the manifest's
 * target keeps the alias as typed, and this file gives it its HostName, ProxyJump, IdentityAgent.
 *
 * The flake is shared between machines and people, so the path is stored in a form that still
 * works elsewhere: a file inside the flake relative to the flake root, a file under the
 * operator's home as `~/…` (each operator's own home), anything else absolute as given. Pure
 * apart from the one existence check.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { usageError } from '../errors.js';
import type { ResolvedTarget } from '../ssh/ssh-config.js';
import type { Manifest } from './schema.js';

const inside = (dir: string, path: string): string | undefined => {
  const rel = relative(dir, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : undefined;
};

/** The absolute path of the config → its manifest form. Pure. */
export function buildStoredSshConfig(abs: string, flakeDir: string, home: string | undefined): string {
  const inFlake = inside(flakeDir, abs);
  if (inFlake) return inFlake;
  const inHome = home ? inside(home, abs) : undefined;
  if (inHome) return `~/${inHome}`;
  return abs;
}

/** The manifest form → the absolute path on this machine. Pure. */
export function resolveStoredSshConfig(stored: string, flakeDir: string, home: string | undefined): string {
  if (stored === '~' || stored.startsWith('~/')) {
    if (!home) throw usageError('bad-ssh-config', `the manifest's [ssh] config is ${stored}, but HOME is not set`, 'set HOME, or pass --ssh-config FILE');
    return join(home, stored.slice(2));
  }
  return isAbsolute(stored) ? stored : join(flakeDir, stored);
}

/**
 * The config file a later run resolves the manifest's target with, or undefined when the manifest
 * names none (ssh's own ~/.ssh/config applies). `label` names the manifest in the error.
 * @throws usageError 'bad-ssh-config' when the file is not on this machine
 */
export function readManifestSshConfig(m: Pick<Manifest, 'ssh'>, flakeDir: string, home: string | undefined, label: string): string | undefined {
  const stored = m.ssh?.config;
  if (stored === undefined) return undefined;
  const abs = resolveStoredSshConfig(stored, flakeDir, home);
  if (!existsSync(abs)) {
    throw usageError('bad-ssh-config', `${label} [ssh] config names ${stored} (${abs}), which is not on this machine`, 'copy that ssh config here (a path inside the flake travels with it), fix [ssh] config, or pass --ssh-config FILE');
  }
  return abs;
}

/**
 * --ssh-config as the plan records it: the file the target was resolved with (ResolvedTarget's
 * sshConfig, absolute), in its manifest form. Only when --ssh-config was given: ssh's default
 * config needs no record (and a test HOME's own config is not the operator's route). Pure.
 */
export function buildSshConfigAnswer(o: { answers: { sshConfig?: string | undefined }; target: object; flakeDir: string; home?: string | undefined }): { sshConfig?: string } {
  const file = (o.target as ResolvedTarget).sshConfig;
  return o.answers.sshConfig && file ? { sshConfig: buildStoredSshConfig(file, o.flakeDir, o.home) } : {};
}

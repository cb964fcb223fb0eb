/**
 * Where a host's files live in the flake: the one owner of that path. By default
 * <hostsDir>/<host>; a flake whose folders do not follow host names maps them in bootstrap.toml:
 *
 *   [hosts.hetzner-vps]
 *   dir = "hosts/servers/hetzner-cloud"
 *
 * Every path of a host (default.nix, disko.nix, the manifest, cache/backup modules, hints) is
 * built from hostDir(), never by joining hostsDir and the name by hand.
 */
import { posix } from 'node:path';
import type { Config } from './schema.js';

export type HostDirConfig = Pick<Config, 'hostsDir' | 'hosts'>;

/** The host's directory, relative to the flake, with "/" separators. Pure. */
export function hostDir(config: HostDirConfig, host: string): string {
  const mapped = Object.hasOwn(config.hosts ?? {}, host) ? config.hosts[host]?.dir : undefined;
  return posix.normalize(mapped ?? posix.join(config.hostsDir, host)).replace(/\/+$/, '');
}

/** Hosts named in [hosts.*] with their directories, sorted by name. Pure. */
export function listMappedHosts(config: HostDirConfig): Array<{ host: string; dir: string }> {
  return Object.keys(config.hosts ?? {})
    .sort()
    .map((host) => ({ host, dir: hostDir(config, host) }));
}

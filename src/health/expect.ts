/**
 * What a healthy host looks like, from the flake: the host manifest (layout, encryption, swap,
 * subvolumes, cache, backups), bootstrap.toml ([sops] mode and key paths) and the toplevel
 * preflight built (.bootstrap/state/HOST/built.json). `buildExpectations` is pure;
 * `readExpectations` reads the files.
 */
import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import type { SecretsMode } from '../config/sections/secrets-mode.js';
import type { Manifest } from '../manifest/schema.js';
import { findLayout, parseSubvolumes } from '../render/disko/index.js';
import { buildStatePath } from '../workflow/install/state.js';
import { buildBuiltPath } from '../workflow/install/preflight-nix.js';

export type HealthContext = 'install' | 'status';

export interface HealthExpectations {
  host: string;
  /**
   * 'install': right after bootstrap installed the host, so another system running is a failure;
   * 'status': later, when a deploy with nixos-rebuild may have moved it on (a warning).
   */
  context: HealthContext;
  /** The toplevel preflight built; null when unknown (built on the target, or no built.json). */
  builtToplevel: string | null;
  layout: {
    name: string;
    rootFs: 'ext4' | 'btrfs' | null;
    /** Mountpoints the plan mounts besides / and /boot (btrfs subvolumes, /data). */
    mounts: Array<{ mountpoint: string; subvolume?: string }>;
    encrypted: boolean;
    raid: 'mdadm' | null;
    /** Planned swap in bytes; null when the manifest does not say. */
    swapBytes: number | null;
  } | null;
  secrets: { mode: SecretsMode; keyFiles: string[] };
  /** The cache bootstrap configured for this host ([cache] in its manifest). */
  cache: { substituter: string; publicKey: string | null } | null;
  backupConfigured: boolean;
}

const BTRFS = new Set(['single-btrfs', 'luks-btrfs', 'btrfs-raid1']);

/** The layout part of the expectations. Pure; an unknown layout name gives null. */
export function buildLayoutExpectation(m: Manifest['layout']): HealthExpectations['layout'] {
  let info;
  try {
    info = findLayout(m.name);
  } catch {
    return null;
  }
  const btrfs = BTRFS.has(info.name);
  const mounts: Array<{ mountpoint: string; subvolume?: string }> = [];
  if (btrfs) {
    mounts.push({ mountpoint: '/home', subvolume: '/home' }, { mountpoint: '/nix', subvolume: '/nix' }, { mountpoint: '/var/log', subvolume: '/log' });
    try {
      for (const s of parseSubvolumes(m.subvolumes ?? [], info)) mounts.push({ mountpoint: s.mountpoint, subvolume: `/${s.name}` });
    } catch {
      /* a manifest that no longer parses is reported by rebuild; here the fixed ones suffice */
    }
  }
  if (info.name === 'data-disk') mounts.push({ mountpoint: '/data' });
  return {
    name: info.name,
    rootFs: btrfs ? 'btrfs' : 'ext4',
    mounts,
    encrypted: m.encrypt ?? info.encrypted ?? false,
    raid: info.name === 'mdadm-raid1' ? 'mdadm' : null,
    swapBytes: m.swapBytes ?? null,
  };
}

/** Expectations from the manifest, config and the built toplevel. Pure. */
export function buildExpectations(host: string, manifest: Manifest, config: LoadedConfig['config'], builtToplevel: string | null, context: HealthContext): HealthExpectations {
  const sops = config.sops;
  // With the target's own keys kept (--copy-host-keys) bootstrap delivers no key.txt: sops-nix derives
  // the age key from the copied SSH host key (run-install.ts: only separateKeyPath goes in then).
  const keyFiles = sops.mode === 'sops' && manifest.install?.identity !== 'copy-target-keys' ? [sops.keyPath] : [];
  if (sops.separateKeyPath) keyFiles.push(sops.separateKeyPath);
  const cache = manifest.cache?.enable !== false && manifest.cache?.substituter ? { substituter: manifest.cache.substituter, publicKey: manifest.cache.publicKey ?? null } : null;
  return {
    host,
    context,
    builtToplevel,
    layout: buildLayoutExpectation(manifest.layout),
    secrets: { mode: sops.mode, keyFiles },
    cache,
    backupConfigured: manifest.backup !== undefined && manifest.backup.enable !== false,
  };
}

/**
 * The toplevel preflight saved in built.json, without requiring it in the local store (a garbage
 * collection here does not change what the host should run). null when built remotely or never.
 */
export async function readBuiltToplevel(flakeDir: string, stateDir: string, host: string): Promise<string | null> {
  try {
    const b = JSON.parse(await readFile(buildBuiltPath(buildStatePath(flakeDir, stateDir, host)), 'utf8')) as { kind?: string; paths?: { toplevel?: unknown } };
    return b.kind === 'local' && typeof b.paths?.toplevel === 'string' ? b.paths.toplevel : null;
  } catch {
    return null;
  }
}

/**
 * Building blocks of disko layouts, each copied from the structure of disko's own examples
 * (example/simple-efi.nix, hybrid.nix, gpt-bios-compat.nix, luks-btrfs-subvolumes.nix,
 * boot-raid1.nix, mdadm.nix, swap.nix, luks-btrfs-raid.nix). All values are plain data for toNix.
 *
 * Partition order on disk follows disko's priorities: EF02 (100) first, sized partitions (1000)
 * by name ("ESP" < "bootfs" < "cryptswap" < "swap"), the "100%" partition (9001) last.
 */
import type { NixAttrs } from '../../nix/serialize.js';
import { usageError } from '../../errors.js';
import type { BootMode, LayoutInfo, SubvolumeSpec } from './types.js';

/** Where nixos-anywhere's `--disk-encryption-keys /tmp/secret.key FILE` puts the passphrase. */
export const LUKS_PASSWORD_FILE = '/tmp/secret.key';
export const BTRFS_MOUNT_OPTIONS = ['compress=zstd', 'noatime'] as const;
const MIB = 1024 * 1024;

export const mib = (bytes: number): string => `${Math.ceil(bytes / MIB)}M`;

const vfatBoot = (): NixAttrs => ({ type: 'filesystem', format: 'vfat', mountpoint: '/boot', mountOptions: ['umask=0077'] });

/** The 1M partition GRUB embeds its core image in on GPT disks booted by BIOS. */
export const biosBootPartition = (): NixAttrs => ({ size: '1M', type: 'EF02' });

export const espPartition = (espMiB: number): NixAttrs => ({ size: `${espMiB}M`, type: 'EF00', content: vfatBoot() });

/** Boot partitions of a single-disk layout: ESP and/or EF02 by boot mode. */
export function bootPartitions(boot: BootMode, espMiB: number): NixAttrs {
  return {
    boot: boot === 'uefi' ? undefined : biosBootPartition(),
    ESP: boot === 'bios' ? undefined : espPartition(espMiB),
  };
}

export const swapPartition = (swapBytes: number, resume: boolean): NixAttrs => ({
  size: mib(swapBytes),
  content: { type: 'swap', resumeDevice: resume || undefined },
});

export function luksContent(name: string, content: NixAttrs): NixAttrs {
  return {
    type: 'luks',
    name,
    // Read only while formatting; at boot the initrd prompts for the passphrase.
    passwordFile: LUKS_PASSWORD_FILE,
    settings: { allowDiscards: true },
    content,
  };
}

export const mdraidMember = (name: string): NixAttrs => ({ type: 'mdraid', name });

export const filesystem = (format: string, mountpoint: string, mountOptions?: string[]): NixAttrs => ({
  type: 'filesystem',
  format,
  mountpoint,
  mountOptions,
});

/** The fixed subvolumes every btrfs layout has, then the user's extras, all compress=zstd,noatime. */
export function btrfsSubvolumes(extra: SubvolumeSpec[]): NixAttrs {
  const all: SubvolumeSpec[] = [
    { name: 'root', mountpoint: '/' },
    { name: 'home', mountpoint: '/home' },
    { name: 'nix', mountpoint: '/nix' },
    { name: 'log', mountpoint: '/var/log' },
    ...extra,
  ];
  return Object.fromEntries(all.map((s) => [`/${s.name}`, { mountpoint: s.mountpoint, mountOptions: [...BTRFS_MOUNT_OPTIONS] }]));
}

export function btrfsContent(subvolumes: NixAttrs, extraArgs: string[] = []): NixAttrs {
  // -f: the disk may carry an old filesystem; nixos-anywhere has already asked before wiping.
  return { type: 'btrfs', extraArgs: ['-f', ...extraArgs], subvolumes };
}

const RESERVED_MOUNTS = new Set(['/', '/boot', '/nix', '/home', '/var/log', '/dev', '/proc', '/sys', '/run']);
const SUBVOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MOUNTPOINT = /^(\/[A-Za-z0-9._-]+)+$/;

/**
 * Parse `--subvolume` values: "containers" (a well-known name from the layout's data file, else
 * mounted at /NAME) or "NAME=/mount/point". Throws a one-line usage error for bad names, paths
 * that would shadow a system mount, and duplicates.
 */
export function parseSubvolumes(specs: readonly string[], layout: LayoutInfo): SubvolumeSpec[] {
  const out: SubvolumeSpec[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = (eq < 0 ? spec : spec.slice(0, eq)).trim().replace(/^\//, '');
    const mountpoint = eq < 0 ? (layout.knownSubvolumes[name] ?? `/${name}`) : spec.slice(eq + 1).trim();
    if (!SUBVOL_NAME.test(name)) {
      throw usageError('bad-subvolume', `subvolume name "${name}" must be letters, digits, ".", "_" or "-"`, 'e.g. --subvolume containers or --subvolume data=/srv/data');
    }
    if (['root', 'home', 'nix', 'log'].includes(name)) throw usageError('bad-subvolume', `subvolume "${name}" is always created; choose another name`);
    if (!MOUNTPOINT.test(mountpoint) || mountpoint.split('/').some((p) => p === '.' || p === '..')) {
      throw usageError('bad-subvolume', `subvolume ${name}: mountpoint "${mountpoint}" must be an absolute path of letters, digits, ".", "_", "-"`, `write it as ${name}=/mount/point`);
    }
    if (RESERVED_MOUNTS.has(mountpoint)) {
      throw usageError('bad-subvolume', `subvolume ${name} would be mounted on ${mountpoint}, which the system uses`, `write it as ${name}=/some/other/path`);
    }
    if (out.some((s) => s.name === name || s.mountpoint === mountpoint)) {
      throw usageError('bad-subvolume', `subvolume ${name} (${mountpoint}) is given twice`);
    }
    out.push({ name, mountpoint });
  }
  return out;
}

/** Install devices must be absolute /dev paths without whitespace; disko pastes them into shell. */
export function checkDevicePath(path: string): string {
  if (!/^\/dev\/[^\s'"`$\\]+$/.test(path) || path.split('/').includes('..')) {
    throw usageError('bad-disk', `"${path}" is not a device path under /dev`, 'pass a /dev/disk/by-id/… path with --disk');
  }
  return path;
}

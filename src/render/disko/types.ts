/**
 * Disko layouts: the input a plan passes to `buildDiskoConfig`, and the catalogue entry each
 * layout's data file (templates/layouts/NAME.toml) describes for the wizard and `--layout`.
 */
import { z } from 'zod';

export const LAYOUT_NAMES = ['single-ext4', 'single-btrfs', 'luks-btrfs', 'btrfs-raid1', 'data-disk', 'mdadm-raid1'] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

/**
 * How the machine boots, which decides the boot partitions:
 * - uefi: EF00 ESP (vfat, /boot, umask=0077)
 * - bios: EF02 1M partition for GRUB's core image; /boot lives on the root filesystem
 * - hybrid: EF02 and EF00, for VPS images that may be started either way (GRUB installs both)
 */
export const BOOT_MODES = ['uefi', 'bios', 'hybrid'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

/** A btrfs subvolume beyond root/home/nix/log: `dev` or `containers=/var/lib/containers`. */
export interface SubvolumeSpec {
  /** Subvolume name without the leading slash, e.g. "containers". */
  name: string;
  /** Absolute mountpoint, e.g. "/var/lib/containers". */
  mountpoint: string;
}

export interface DiskoInput {
  layout: LayoutName;
  boot: BootMode;
  /**
   * Install disks as disko should address them: /dev/disk/by-id/… when the disk has one. One for
   * single-disk layouts, two (first = main, carries the ESP) for two-disk layouts.
   */
  disks: string[];
  /** Swap size in bytes (rounded up to MiB); 0 = no swap. See planSwapBytes. */
  swapBytes: number;
  /** Make the swap the resume device (hibernation). Needs swapBytes ≥ memory; see planSwapBytes. */
  hibernate?: boolean;
  /** Extra btrfs subvolumes ("dev", "containers=/var/lib/containers"); btrfs layouts only. */
  subvolumes?: string[];
  /** ESP size in MiB (default from the layout's data file). */
  espMiB?: number;
  /** Filesystem of the second disk in `data-disk` (default ext4). */
  dataFormat?: 'ext4' | 'xfs' | 'btrfs';
}

export const LayoutParamSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    type: z.enum(['size', 'boolean', 'string-list', 'enum']),
    default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(),
    choices: z.array(z.string()).optional(),
  })
  .strict();

export const LayoutInfoSchema = z
  .object({
    name: z.enum(LAYOUT_NAMES),
    /** Other names accepted by --layout (e.g. "ext4" for "single-ext4"). */
    aliases: z.array(z.string()).default([]),
    description: z.string(),
    disksRequired: z.union([z.literal(1), z.literal(2)]),
    boot: z.array(z.enum(BOOT_MODES)).min(1).describe('boot modes the layout supports'),
    encrypted: z.boolean().default(false),
    /** Machine kinds the wizard suggests the layout for. */
    recommendedFor: z.array(z.enum(['vps', 'server', 'desktop', 'laptop'])).default([]),
    espMiB: z.number().int().min(64).default(1024),
    /** Mountpoints for well-known extra subvolume names, so `--subvolume containers` needs no path. */
    knownSubvolumes: z.record(z.string(), z.string()).default({}),
    params: z.array(LayoutParamSchema).default([]),
  })
  .strict();

export type LayoutInfo = z.infer<typeof LayoutInfoSchema>;
export type LayoutParam = z.infer<typeof LayoutParamSchema>;

/**
 * What a disk layout implies for the rest of the host configuration: the boot loader lines that
 * match its boot partitions, the swap size, and the initrd modules the layout itself needs.
 */
import type { NixBinding } from '../../nix/bindings.js';
import { findLayout } from './catalogue.js';
import type { BootMode, LayoutName } from './types.js';

export type BootLoaderChoice = 'systemd-boot' | 'grub';

export type { NixBinding };

export interface BootLoaderPlan {
  loader: BootLoaderChoice;
  lines: NixBinding[];
  /** Why a requested loader was replaced (shown in the plan). */
  warnings: string[];
}

const grub = (...rest: NixBinding[]): NixBinding[] => [[['boot', 'loader', 'grub', 'enable'], true], ...rest];

/**
 * Boot loader lines for a layout and boot mode. `wanted` is the profile's preference; it is
 * honoured when it can boot the layout, else GRUB is used and a warning says why.
 * - bios: GRUB on the EF02 partition(s). No `devices` line: disko already adds every disk with an
 *   EF02 partition to boot.loader.grub.devices, and a duplicate would fail NixOS's assertion.
 * - hybrid: GRUB for both, the EFI half installed as removable (\EFI\BOOT\BOOTX64.EFI), which
 *   needs no NVRAM entry: VPS firmware often forgets or lacks one.
 * - uefi: systemd-boot on a single disk; GRUB (removable, nodev) when the ESP is an md mirror,
 *   which systemd-boot cannot install to.
 */
export function buildBootLoader(layout: LayoutName, boot: BootMode, wanted?: BootLoaderChoice): BootLoaderPlan {
  const info = findLayout(layout);
  const mirroredEsp = info.disksRequired === 2 && layout !== 'data-disk';
  const warnings: string[] = [];
  if (wanted === 'systemd-boot' && boot !== 'uefi') warnings.push(`systemd-boot needs UEFI boot, but this host boots ${boot}: using GRUB`);
  if (wanted === 'systemd-boot' && boot === 'uefi' && mirroredEsp) warnings.push(`systemd-boot cannot install to the mirrored ESP of ${layout}: using GRUB`);
  const useSystemdBoot = boot === 'uefi' && !mirroredEsp && wanted !== 'grub';
  if (useSystemdBoot) {
    return {
      loader: 'systemd-boot',
      lines: [
        [['boot', 'loader', 'systemd-boot', 'enable'], true],
        [['boot', 'loader', 'efi', 'canTouchEfiVariables'], true],
      ],
      warnings,
    };
  }
  if (boot === 'bios') return { loader: 'grub', lines: grub(), warnings };
  const efi: NixBinding[] = [
    [['boot', 'loader', 'grub', 'efiSupport'], true],
    [['boot', 'loader', 'grub', 'efiInstallAsRemovable'], true],
  ];
  // UEFI-only disks have no EF02 partition, so disko adds no device: GRUB needs "nodev" to install EFI only.
  const nodev: NixBinding[] = boot === 'uefi' ? [[['boot', 'loader', 'grub', 'devices'], ['nodev']]] : [];
  return { loader: 'grub', lines: grub(...efi, ...nodev), warnings };
}

/**
 * Initrd modules a layout needs to reach its root filesystem, beyond the hardware's own drivers.
 * NixOS adds these too when disko declares the LUKS devices or md arrays; the plan lists them so
 * the host's hardware.nix states what the first boot depends on.
 */
export function requiredInitrdModulesForLayout(layout: LayoutName, opts: { swapBytes?: number; boot?: BootMode } = {}): string[] {
  switch (layout) {
    case 'luks-btrfs':
      return ['dm_mod', 'dm_crypt'];
    case 'mdadm-raid1':
      return ['md_mod', 'raid1'];
    case 'btrfs-raid1':
      // The root is btrfs raid1 (no md); md only carries the ESP and swap, when there are any.
      return opts.boot === 'bios' && (opts.swapBytes ?? 0) === 0 ? [] : ['md_mod', 'raid1'];
    default:
      return [];
  }
}

const GIB = 1024 ** 3;

/**
 * Swap size from memory: min(memory, max) rounded up to a whole GiB; with hibernation at least the
 * memory (rounded up to a GiB, since the kernel reports a little less than the installed RAM).
 * 0 memory (unknown) gives 0.
 */
export function planSwapBytes(memoryBytes: number, opts: { hibernate?: boolean; maxBytes?: number } = {}): number {
  if (memoryBytes <= 0) return 0;
  const memGiB = Math.ceil(memoryBytes / GIB) * GIB;
  if (opts.hibernate) return memGiB;
  return Math.min(memGiB, opts.maxBytes ?? 8 * GIB);
}

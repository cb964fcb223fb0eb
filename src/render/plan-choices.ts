/**
 * The choices a host plan makes before rendering anything: host name, boot mode, layout, swap.
 * Pure; every bad answer is a one-line usage error naming the valid choices.
 */
import { usageError } from '../errors.js';
import type { HardwareReport } from '../probe/report.js';
import type { Profile } from '../profiles/schema.js';
import { checkLayoutFits, DISKO_LAYOUTS, findLayout, type BootLoaderChoice, type BootMode, type LayoutInfo } from './disko/index.js';

export { checkHostName } from '../host-name.js';

export interface BootChoice {
  boot: BootMode;
  wanted?: BootLoaderChoice;
}

/**
 * Boot mode from the profile's boot loader and the probed firmware. "grub-hybrid" gives EF02 +
 * ESP on x86 (a VPS may be started by BIOS or UEFI); arm64 has no BIOS, so it stays UEFI there.
 */
export function planBootChoice(profile: Profile, report: HardwareReport): BootChoice {
  const loader = profile.contributes.bootLoader;
  if (loader === 'grub-hybrid') return { boot: report.arch === 'x86_64-linux' ? 'hybrid' : 'uefi', wanted: 'grub' };
  // Firmware unknown: on x86 a layout that boots by BIOS and by UEFI (GRUB, EFI as removable);
  // arm64 machines boot UEFI.
  if (report.firmware === 'unknown') return { boot: report.arch === 'x86_64-linux' ? 'hybrid' : 'uefi', wanted: 'grub' };
  return { boot: report.firmware, ...(loader ? { wanted: loader } : {}) };
}

/** The plan's explanation when the firmware was not known. Pure. */
export function describeUnknownFirmware(report: HardwareReport): string | undefined {
  if (report.firmware !== 'unknown') return undefined;
  return report.arch === 'x86_64-linux'
    ? 'the report does not say whether the machine boots by BIOS or UEFI (nixos-facter before 0.4, or no /sys/firmware): the layout boots either way (GPT with a BIOS boot partition and an ESP; GRUB for both, its EFI half installed as removable)'
    : 'the report does not say how the machine boots: arm64 boots UEFI, so the layout has an ESP';
}

/**
 * The layout: the one asked for (by name or alias), else the profile's first preference that fits
 * the usable disks and the boot mode, else single-ext4. `encrypt` without a layout picks
 * luks-btrfs. A layout that does not fit is a usage error naming those that would.
 */
export function planLayout(opts: { asked?: string; encrypt?: boolean; profile: Profile; usableDisks: number; boot: BootMode }): LayoutInfo {
  let layout: LayoutInfo;
  if (opts.asked !== undefined) layout = findLayout(opts.asked);
  else if (opts.encrypt) layout = findLayout('luks-btrfs');
  else {
    const fits = (l: LayoutInfo) => l.disksRequired <= opts.usableDisks && l.boot.includes(opts.boot);
    const preferred = opts.profile.contributes.layouts
      .map((n) => DISKO_LAYOUTS.find((l) => l.name === n || l.aliases.includes(n)))
      .find((l): l is LayoutInfo => l !== undefined && fits(l));
    layout = preferred ?? findLayout('single-ext4');
  }
  if (opts.encrypt === true && !layout.encrypted) {
    const encrypted = DISKO_LAYOUTS.filter((l) => l.encrypted).map((l) => l.name);
    throw usageError('layout-not-encrypted', `layout ${layout.name} is not encrypted; encrypted layouts: ${encrypted.join(', ')}`, 'drop --encrypt or choose an encrypted layout');
  }
  checkLayoutFits(layout, opts.usableDisks, opts.boot);
  return layout;
}

const MAX_SIZE = 1024 ** 5; // 1 PiB: more is a typo, not a disk

/** `--swap` text → bytes: "0", "512M", "8G", "8GiB", "1T" (binary units) or a plain byte count. */
export function parseSize(text: string, flag = '--swap'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw usageError('bad-size', `${flag} "${text}" is not a size`, 'write it like 0, 512M, 8G or 1T');
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes > MAX_SIZE) throw usageError('bad-size', `${flag} "${text}" is too large`, 'a size up to 1024T, e.g. 8G');
  return bytes;
}

/** A second disk only means something to a two-disk layout: on any other it is a usage error, never ignored. */
export function checkSecondDiskFits(layout: LayoutInfo, secondDisk: string | undefined): void {
  if (secondDisk === undefined || layout.disksRequired === 2) return;
  const two = DISKO_LAYOUTS.filter((l) => l.disksRequired === 2).map((l) => l.name);
  throw usageError('second-disk-unused', `layout ${layout.name} uses one disk, so --second-disk ${secondDisk} has no place; layouts with a second disk: ${two.join(', ')}`, 'choose one of them with --layout, or drop --second-disk');
}

/** Subvolumes are a btrfs notion: asking for them with ext4 or mdadm is a usage error. */
export function checkSubvolumesFit(layout: LayoutInfo, subvolumes: readonly string[] | undefined): void {
  if (!subvolumes?.length) return;
  const btrfs = DISKO_LAYOUTS.filter((l) => l.name.includes('btrfs')).map((l) => l.name);
  if (!btrfs.includes(layout.name)) {
    throw usageError('subvolumes-need-btrfs', `layout ${layout.name} has no btrfs subvolumes; layouts with subvolumes: ${btrfs.join(', ')}`, 'choose one with --layout, or drop --subvolume');
  }
}

/**
 * buildDiskoConfig: DiskoInput → the text of hosts/HOST/disko.nix, `{ disko.devices = { … }; }`,
 * as disko and nixos-anywhere read it. Pure; every value goes through toNix.
 */
import { nixEntries, toNix, type NixAttrs } from '../../nix/serialize.js';
import { usageError } from '../../errors.js';
import { checkLayoutFits, findLayout } from './catalogue.js';
import {
  biosBootPartition,
  bootPartitions,
  btrfsContent,
  btrfsSubvolumes,
  checkDevicePath,
  espPartition,
  filesystem,
  luksContent,
  mdraidMember,
  mib,
  parseSubvolumes,
  swapPartition,
} from './parts.js';
import type { DiskoInput, LayoutInfo } from './types.js';

/** The `disko.devices` value: disk (and mdadm) attribute sets. */
export interface DiskoDevices {
  disk: NixAttrs;
  mdadm?: NixAttrs;
}

const gptDisk = (device: string, partitions: NixAttrs): NixAttrs => ({
  type: 'disk',
  device,
  content: { type: 'gpt', partitions },
});

function singleDisk(input: DiskoInput, layout: LayoutInfo, espMiB: number): DiskoDevices {
  const [device] = input.disks as [string];
  const swap = input.swapBytes > 0;
  const resume = Boolean(input.hibernate);
  switch (input.layout) {
    case 'single-ext4':
      return {
        disk: {
          main: gptDisk(device, {
            ...bootPartitions(input.boot, espMiB),
            swap: swap ? swapPartition(input.swapBytes, resume) : undefined,
            root: { size: '100%', content: filesystem('ext4', '/') },
          }),
        },
      };
    case 'single-btrfs': {
      const subvolumes = btrfsSubvolumes(parseSubvolumes(input.subvolumes ?? [], layout));
      return {
        disk: {
          main: gptDisk(device, {
            ...bootPartitions(input.boot, espMiB),
            swap: swap ? swapPartition(input.swapBytes, resume) : undefined,
            root: { size: '100%', content: btrfsContent(subvolumes) },
          }),
        },
      };
    }
    case 'luks-btrfs': {
      const subvolumes = btrfsSubvolumes(parseSubvolumes(input.subvolumes ?? [], layout));
      // Hibernation needs a persistent key for swap: a second LUKS volume (the initrd reuses the
      // passphrase). Without it, swap gets a fresh random key every boot and no prompt.
      const swapPart = !swap
        ? {}
        : resume
          ? { cryptswap: { size: mib(input.swapBytes), content: luksContent('cryptswap', { type: 'swap', resumeDevice: true }) } }
          : { swap: { size: mib(input.swapBytes), content: { type: 'swap', randomEncryption: true } } };
      return {
        disk: {
          main: gptDisk(device, {
            ...bootPartitions(input.boot, espMiB),
            // BIOS GRUB cannot open LUKS2, so /boot stays outside it.
            bootfs: input.boot === 'bios' ? { size: `${espMiB}M`, content: filesystem('ext4', '/boot') } : undefined,
            ...swapPart,
            luks: { size: '100%', content: luksContent('crypted', btrfsContent(subvolumes)) },
          }),
        },
      };
    }
    default:
      throw new Error(`singleDisk: ${input.layout} is a two-disk layout`);
  }
}

/**
 * The partitions mirrored by mdadm on both disks: EF02 per disk (GRUB is installed on each, since
 * disko adds every disk with an EF02 partition to boot.loader.grub.devices), a metadata-1.0 ESP
 * mirror, and a swap mirror.
 */
function mirroredBootAndSwap(input: DiskoInput, espMiB: number): { partitions: NixAttrs; arrays: NixAttrs } {
  const swap = input.swapBytes > 0;
  const efi = input.boot !== 'bios';
  return {
    partitions: {
      boot: input.boot === 'uefi' ? undefined : biosBootPartition(),
      ESP: efi ? { size: `${espMiB}M`, type: 'EF00', content: mdraidMember('boot') } : undefined,
      swap: swap ? { size: mib(input.swapBytes), content: mdraidMember('swap') } : undefined,
    },
    arrays: {
      // Metadata 1.0 sits at the end of the partition, so firmware sees a plain FAT ESP on either disk.
      boot: efi ? { type: 'mdadm', level: 1, metadata: '1.0', content: filesystem('vfat', '/boot', ['umask=0077']) } : undefined,
      swap: swap ? { type: 'mdadm', level: 1, content: { type: 'swap', resumeDevice: input.hibernate || undefined } } : undefined,
    },
  };
}

function twoDisks(input: DiskoInput, layout: LayoutInfo, espMiB: number): DiskoDevices {
  const [first, second] = input.disks as [string, string];
  switch (input.layout) {
    case 'data-disk': {
      const format = input.dataFormat ?? 'ext4';
      if (!['ext4', 'xfs', 'btrfs'].includes(format)) throw usageError('bad-layout-param', `dataFormat "${format}" is not one of ext4, xfs, btrfs`);
      return {
        disk: {
          main: gptDisk(first, {
            ...bootPartitions(input.boot, espMiB),
            swap: input.swapBytes > 0 ? swapPartition(input.swapBytes, Boolean(input.hibernate)) : undefined,
            root: { size: '100%', content: filesystem('ext4', '/') },
          }),
          data: gptDisk(second, {
            data: {
              size: '100%',
              content: { ...filesystem(format, '/data'), extraArgs: format === 'btrfs' ? ['-f'] : undefined },
            },
          }),
        },
      };
    }
    case 'mdadm-raid1': {
      const { partitions, arrays } = mirroredBootAndSwap(input, espMiB);
      const disk = (device: string) => gptDisk(device, { ...partitions, root: { size: '100%', content: mdraidMember('root') } });
      return {
        disk: { main: disk(first), mirror: disk(second) },
        // With BIOS boot, /boot is a directory on this mirror; GRUB reads md 1.2 arrays.
        mdadm: { ...arrays, root: { type: 'mdadm', level: 1, content: filesystem('ext4', '/') } },
      };
    }
    case 'btrfs-raid1': {
      const { partitions, arrays } = mirroredBootAndSwap(input, espMiB);
      const subvolumes = btrfsSubvolumes(parseSubvolumes(input.subvolumes ?? [], layout));
      // Disks are formatted in name order: "main" gets an empty root partition, then "mirror"
      // creates the raid1 filesystem over both (as disko's example/luks-btrfs-raid.nix does).
      const raid = btrfsContent(subvolumes, ['-d', 'raid1', '-m', 'raid1', '/dev/disk/by-partlabel/disk-main-root']);
      const hasArrays = Object.values(arrays).some((a) => a !== undefined);
      return {
        disk: {
          main: gptDisk(first, { ...partitions, root: { size: '100%' } }),
          mirror: gptDisk(second, { ...partitions, root: { size: '100%', content: raid } }),
        },
        mdadm: hasArrays ? arrays : undefined,
      };
    }
    default:
      throw new Error(`twoDisks: ${input.layout} is a single-disk layout`);
  }
}

/** The devices tree for a layout, as data (tests and the plan can inspect it before rendering). */
export function buildDiskoDevices(input: DiskoInput): DiskoDevices {
  const layout = findLayout(input.layout);
  checkLayoutFits(layout, input.disks.length, input.boot);
  if (input.disks.length > layout.disksRequired) {
    throw usageError('too-many-disks', `layout ${layout.name} uses ${layout.disksRequired} disk(s), but ${input.disks.length} were given`);
  }
  input.disks.forEach(checkDevicePath);
  if (new Set(input.disks).size !== input.disks.length) throw usageError('bad-disk', `the same disk is given twice: ${input.disks.join(', ')}`);
  if (!Number.isSafeInteger(input.swapBytes) || input.swapBytes < 0) throw usageError('bad-layout-param', `swap size ${input.swapBytes} is not a byte count`);
  if (input.hibernate && input.swapBytes === 0) {
    throw usageError('bad-layout-param', 'hibernation needs swap, but the swap size is 0', 'drop --hibernate or give a swap size at least the memory size');
  }
  const espMiB = input.espMiB ?? layout.espMiB;
  return layout.disksRequired === 1 ? singleDisk(input, layout, espMiB) : twoDisks(input, layout, espMiB);
}

const HEADER = [
  '# Disk layout for disko / nixos-anywhere, written by nixos-bootstrap.',
  '# Regenerated by `bootstrap plan --write`; change the layout in hosts/HOST/bootstrap.toml instead.',
];

/** The disko.nix file content. Throws usage errors for layouts that do not fit the input. */
/**
 * Device paths come from the target (probe data) and disko pastes them into a shell script, so
 * only plain /dev paths pass: letters, digits and . _ - : + @ , / after /dev/. Pure.
 * @throws usageError 'bad-device-path'
 */
export function assertSafeDevicePath(path: string): void {
  if (/^\/dev\/[A-Za-z0-9._:+@,/-]+$/.test(path) && !path.includes('..')) return;
  throw usageError('bad-device-path', `the disk path ${JSON.stringify(path)} is not a device path disko can use: only plain /dev/… paths (letters, digits and . _ - : + @ , /)`, 'pick another disk with --disk (a /dev/disk/by-id/… path); a device name with shell characters is refused because disko runs it in a script');
}

export function buildDiskoConfig(input: DiskoInput): string {
  for (const d of input.disks) assertSafeDevicePath(d);
  const devices = buildDiskoDevices(input);
  const text = toNix(nixEntries([[['disko', 'devices'], { disk: devices.disk, mdadm: devices.mdadm }]]));
  return `${HEADER.join('\n')}\n${text}\n`;
}

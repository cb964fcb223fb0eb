/**
 * HardwareReport: what `bootstrap probe` finds and every later step relies on (DESIGN.md).
 * The probe script's parser and the nixos-facter converter both produce this shape; it is
 * validated with zod before anyone sees it. Missing facts are null/empty, never guessed.
 */
import { z } from 'zod';

export const ARCHES = ['x86_64-linux', 'aarch64-linux'] as const;

export const DiskSchema = z.object({
  name: z.string().describe('kernel name, e.g. "nvme0n1"'),
  path: z.string().describe('/dev/NAME'),
  byId: z.array(z.string()).describe('/dev/disk/by-id/* links, most stable first (wwn-/nvme-eui. last)'),
  byPath: z.array(z.string()).describe('/dev/disk/by-path/* links'),
  sizeBytes: z.number().int().nonnegative(),
  rotational: z.boolean(),
  removable: z.boolean(),
  readOnly: z.boolean(),
  type: z.string().describe('lsblk TYPE: disk, rom, loop …'),
  transport: z.string().nullable().describe('lsblk TRAN: sata, nvme, usb, virtio, … or null'),
  model: z.string().nullable(),
  serial: z.string().nullable(),
  driverModules: z.array(z.string()).describe('kernel modules of the controller chain, nearest first'),
  partitions: z.array(z.object({ name: z.string(), sizeBytes: z.number().int().nonnegative(), fstype: z.string().nullable(), mountpoint: z.string().nullable() })),
});

/** domain:bus:slot.func as sysfs writes it; the probe and the facter converter keep only these. */
export const PCI_BUS_ID_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;
const hex4 = (what: string) => z.string().regex(/^[0-9a-f]{4}$/i, { message: `must be ${what} as 4 hex digits` });

export const PciDeviceSchema = z.object({
  busId: z.string().regex(PCI_BUS_ID_RE, { message: 'must be a PCI bus id domain:bus:slot.func, e.g. "0000:01:00.0"' }).describe('domain:bus:slot.func, e.g. "0000:01:00.0"'),
  class: hex4('class and subclass').describe('class and subclass as 4 hex digits, e.g. "0300" for VGA'),
  vendorId: hex4('the vendor id').describe('4 hex digits, e.g. "10de"'),
  deviceId: hex4('the device id'),
  driverModule: z.string().nullable().describe('bound driver module, e.g. "nvidia", "ahci"'),
});

export const NicSchema = z.object({
  name: z.string(),
  mac: z.string().nullable(),
  addresses: z.array(z.string()).describe('CIDR, IPv4 and IPv6 (global and link scope)'),
  driverModule: z.string().nullable(),
  up: z.boolean(),
  wireless: z.boolean(),
});

export const RouteSchema = z.object({
  family: z.enum(['ipv4', 'ipv6']),
  gateway: z.string().nullable(),
  interface: z.string(),
});

export const HardwareReportSchema = z.object({
  version: z.literal(1),
  source: z.enum(['probe', 'facter']),
  hostname: z.string().nullable(),
  arch: z.enum(ARCHES),
  firmware: z.enum(['uefi', 'bios', 'unknown']).describe('unknown: the report could not tell (facter before 0.4, no /sys/firmware)'),
  virtualization: z.string().describe('systemd-detect-virt name, "none" on bare metal'),
  cpu: z.object({
    vendor: z.string().describe('"intel", "amd", "arm" or the raw vendor string'),
    model: z.string().nullable(),
    cores: z.number().int().positive(),
    flags: z.array(z.string()),
  }),
  memoryBytes: z.number().int().nonnegative(),
  dmi: z.object({
    vendor: z.string().nullable(),
    product: z.string().nullable(),
    chassis: z.string().nullable().describe('laptop, notebook, desktop, server, tower, … (SMBIOS chassis type name)'),
  }),
  disks: z.array(DiskSchema),
  pci: z.array(PciDeviceSchema),
  usbControllers: z.array(z.string()).describe('driver modules of USB host controllers (xhci_pci, ehci_pci, …)'),
  usbBootDrivers: z
    .array(z.string())
    .default([])
    .describe('driver modules of USB interfaces that matter at boot: mass storage (usb_storage, uas), keyboards (usbhid), card readers (rtsx_usb)'),
  nics: z.array(NicSchema),
  defaultRoutes: z.array(RouteSchema),
  /** What the target can reach (probe.sh section reach); absent in reports of older versions and nixos-facter files. */
  reach: z.object({ ipv4DefaultRoute: z.boolean().describe('an IPv4 default route (from /proc/net/route)') }).optional(),
  battery: z.boolean(),
  os: z.object({
    id: z.string().nullable(),
    name: z.string().nullable(),
    versionId: z.string().nullable(),
    kernel: z.string().nullable(),
    isNixos: z.boolean(),
    isInstaller: z.boolean().describe('a NixOS installer image'),
    isRescue: z.boolean().describe('a hoster rescue system (Hetzner, OVH, …)'),
    hasNixosFacter: z.boolean(),
  }),
  access: z.object({
    user: z.string(),
    isRoot: z.boolean(),
    sudo: z.enum(['none', 'passwordless', 'needs-password']),
  }),
  tools: z.object({
    nixosFacter: z.boolean(),
    nix: z.boolean(),
    kexec: z.boolean(),
    tar: z.boolean(),
    cpio: z.boolean(),
    setsid: z.boolean(),
    lsblk: z.boolean(),
  }),
  /** The untouched nixos-facter report, when the target had nixos-facter. */
  facter: z.unknown().optional(),
  /** Facts that could not be read, with why (a missing tool degrades a field, never the run). */
  warnings: z.array(z.string()),
});

export type HardwareReport = z.infer<typeof HardwareReportSchema>;
export type Disk = z.infer<typeof DiskSchema>;
export type PciDevice = z.infer<typeof PciDeviceSchema>;
export type Nic = z.infer<typeof NicSchema>;

/** PCI class helpers used by probe summaries and hardware profiles. */
export const isGpu = (d: PciDevice): boolean => d.class.startsWith('03');
// A Map, not an object: a report's strings ("constructor", "__proto__") must not find Object.prototype.
const GPU_VENDORS = new Map(Object.entries({ '10de': 'nvidia', '1002': 'amd', '8086': 'intel', '1af4': 'virtio', '1234': 'qemu', '15ad': 'vmware', '1b36': 'qemu' }));
/** "nvidia", "amd", "intel", … for a PCI vendor id, or undefined. */
export const gpuVendorOf = (vendorId: string): string | undefined => GPU_VENDORS.get(vendorId.toLowerCase());

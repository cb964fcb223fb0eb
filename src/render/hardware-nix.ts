/**
 * hosts/HOST/hardware.nix: what nixos-generate-config would write for the probed machine, plus
 * what the first boot needs that a scan of the running system cannot see (virtio drivers on VMs,
 * a USB keyboard at the LUKS prompt, SD readers), plus what the hardware profile adds.
 * Pure: report and profile data in, file text out.
 */
import { flattenAttrs, mergeBindings, bindingsToNix, type NixBinding } from '../nix/bindings.js';
import { nixAttrName, nixModule, nixRaw, nixString, type NixAttrs, type NixValue } from '../nix/serialize.js';
import { usageError } from '../errors.js';
import type { HardwareReport } from '../probe/report.js';

export interface InitrdModules {
  /** boot.initrd.availableKernelModules: drivers the initrd may need to find the root disk. */
  initrdAvailable: string[];
  /** boot.kernelModules: loaded after boot (kvm-intel / kvm-amd). */
  kernelModules: string[];
}

/**
 * PCI classes whose drivers belong in the initrd, as nixos-generate-config picks them: mass
 * storage (01xx), USB and FireWire controllers (0c03, 0c00), SD host controllers (0805).
 */
const INITRD_PCI_CLASS = /^(01..|0c03|0c00|0805)$/i;
/**
 * Realtek card readers are "unassigned class" (ff00) MFDs; the SD half is a separate module.
 * Tables keyed by report strings are Maps: a driver named "constructor" must find nothing.
 */
const CARD_READER_DRIVERS = new Map([['rtsx_pci', ['rtsx_pci', 'rtsx_pci_sdmmc']], ['rtsx_usb', ['rtsx_usb', 'rtsx_usb_sdmmc']]]);
/** Hypervisors whose disks and NICs are virtio (systemd-detect-virt names). */
const VIRTIO_HYPERVISORS = new Set(['kvm', 'qemu', 'bochs']);
const VIRTIO_INITRD = ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net'];
/** Disks the machine will never boot from: their drivers add nothing. */
const IGNORED_DISK = /^(loop|zram|ram|sr|nbd|dm-|md)/;

const MODULE_NAME = /^[A-Za-z0-9_-]+$/;
const uniqSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].filter((m) => MODULE_NAME.test(m)).sort();

/**
 * The kernel modules the installed system needs early, from the report:
 * - drivers of storage, USB, FireWire and SD controllers on the PCI bus, and of every disk's
 *   controller chain (disks[].driverModules, e.g. sd_mod → ahci, nvme, virtio_blk → virtio_pci)
 * - USB host controller drivers (xhci_pci, ehci_pci, thunderbolt …)
 * - on bare metal with USB: usbhid (a USB keyboard at the LUKS prompt), usb_storage and sd_mod
 * - mmc_block when an SD/eMMC controller or disk is present (sdhci_pci, rtsx_pci_sdmmc come from PCI)
 * - on KVM/QEMU guests: virtio_pci, virtio_blk, virtio_scsi, virtio_net, whatever the rescue
 *   system happened to use
 * - kvm-intel / kvm-amd from the CPU's vmx / svm flags
 */
export function buildInitrdModules(report: HardwareReport): InitrdModules {
  const initrd: string[] = [];
  for (const d of report.pci) {
    if (!d.driverModule) continue;
    if (INITRD_PCI_CLASS.test(d.class)) initrd.push(d.driverModule);
    const reader = CARD_READER_DRIVERS.get(d.driverModule);
    if (reader) initrd.push(...reader);
  }
  for (const disk of report.disks) {
    if (disk.type !== 'disk' || IGNORED_DISK.test(disk.name)) continue;
    initrd.push(...disk.driverModules);
  }
  initrd.push(...report.usbControllers);
  // USB storage, keyboards and card readers seen on this machine (uas, usbhid, rtsx_usb → its SD half).
  for (const m of report.usbBootDrivers ?? []) initrd.push(...(CARD_READER_DRIVERS.get(m) ?? [m]));
  const bareMetal = report.virtualization === 'none';
  if (bareMetal && report.usbControllers.length > 0) initrd.push('usbhid', 'usb_storage', 'sd_mod');
  if (VIRTIO_HYPERVISORS.has(report.virtualization)) initrd.push(...VIRTIO_INITRD);
  // SD/eMMC: the host controller driver alone does not give a block device. Only modules seen on
  // this machine are added otherwise: a name the kernel lacks fails the initrd build.
  if (initrd.some((m) => m.startsWith('sdhci') || m.endsWith('_sdmmc')) || report.disks.some((d) => d.name.startsWith('mmcblk'))) initrd.push('mmc_block');

  const kernel: string[] = [];
  const flags = new Set(report.cpu.flags);
  if (flags.has('vmx')) kernel.push('kvm-intel');
  if (flags.has('svm')) kernel.push('kvm-amd');
  return { initrdAvailable: uniqSorted(initrd), kernelModules: uniqSorted(kernel) };
}

/** Guest integration per hypervisor (systemd-detect-virt name) beyond the qemu-guest profile. */
const GUEST_SETTINGS = new Map<string, NixBinding[]>([
  ['microsoft', [[['virtualisation', 'hypervGuest', 'enable'], true]]],
  ['vmware', [[['virtualisation', 'vmware', 'guest', 'enable'], true]]],
  ['oracle', [[['virtualisation', 'virtualbox', 'guest', 'enable'], true]]],
]);

export interface HardwareNixInput {
  /** nixpkgs.hostPlatform, e.g. "x86_64-linux" (HardwareReport.arch). */
  system: string;
  /** systemd-detect-virt name; "none" on bare metal (HardwareReport.virtualization). */
  virtualization: string;
  /** "intel", "amd" or anything else (HardwareReport.cpu.vendor); picks the microcode line. */
  cpuVendor: string;
  /** From buildInitrdModules(report). */
  modules: InitrdModules;
  /** Added by the profile and the layout (requiredInitrdModulesForLayout) to availableKernelModules. */
  extraInitrdModules?: string[];
  /** boot.initrd.kernelModules: loaded unconditionally in the initrd (e.g. "amdgpu" for early KMS). */
  initrdKernelModules?: string[];
  /** Added to boot.kernelModules. */
  extraKernelModules?: string[];
  kernelParams?: string[];
  /**
   * nixos-hardware module names (e.g. "common-cpu-amd"), imported as
   * inputs.nixos-hardware.nixosModules.NAME: the flake must pass `inputs` in specialArgs.
   */
  nixosHardware?: string[];
  /** Further imports, written by us (nixRaw) — never user text. */
  imports?: NixValue[];
  /** Profile module lines (nested attrs, e.g. from TOML tables); written as dotted bindings. */
  extraConfig?: NixAttrs;
  /** Further dotted bindings (e.g. from a recipe or buildBootLoader(...).lines). */
  extraBindings?: NixBinding[];
  /** Header comment lines (default: says the file is generated). */
  header?: string[];
}

const DEFAULT_HEADER = [
  'Hardware of this host, written by nixos-bootstrap from its probe report (facts.json).',
  'Regenerated by `bootstrap plan --write`: put your own settings in default.nix.',
];

function checkModules(what: string, mods: readonly string[]): string[] {
  for (const m of mods) if (!MODULE_NAME.test(m)) throw usageError('bad-module-name', `${what}: "${m}" is not a kernel module name`);
  return [...mods];
}

/** The hardware.nix file content (a NixOS module). Throws on conflicting settings. */
export function buildHardwareNix(input: HardwareNixInput): string {
  if (!/^[a-z0-9_]+-[a-z0-9_]+$/.test(input.system)) throw usageError('bad-system', `"${input.system}" is not a Nix system such as x86_64-linux`);
  const bareMetal = input.virtualization === 'none';
  const mkDefault = (v: string) => nixRaw(`lib.mkDefault ${v}`);
  const imports: NixValue[] = [];
  if (VIRTIO_HYPERVISORS.has(input.virtualization)) imports.push(nixRaw('(modulesPath + "/profiles/qemu-guest.nix")'));
  for (const name of input.nixosHardware ?? []) imports.push(nixRaw(`inputs.nixos-hardware.nixosModules.${nixAttrName(name)}`));
  imports.push(...(input.imports ?? []));

  const initrd = [...new Set([...input.modules.initrdAvailable, ...checkModules('initrd module', input.extraInitrdModules ?? [])])].sort();
  const kernel = [...new Set([...input.modules.kernelModules, ...checkModules('kernel module', input.extraKernelModules ?? [])])].sort();
  const base: NixBinding[] = [
    [['boot', 'initrd', 'availableKernelModules'], initrd],
    [['boot', 'initrd', 'kernelModules'], checkModules('initrd kernel module', input.initrdKernelModules ?? [])],
    [['boot', 'kernelModules'], kernel],
    [['boot', 'extraModulePackages'], []],
  ];
  if (input.kernelParams?.length) base.push([['boot', 'kernelParams'], [...input.kernelParams]]);
  base.push([['networking', 'useDHCP'], mkDefault('true')]);
  base.push([['nixpkgs', 'hostPlatform'], mkDefault(nixString(input.system))]);
  if (bareMetal) {
    // Microcode and firmware blobs matter on real hardware only; a guest gets the host's microcode.
    base.push([['hardware', 'enableRedistributableFirmware'], mkDefault('true')]);
    const vendor = input.cpuVendor.toLowerCase();
    if (vendor === 'intel' || vendor === 'amd') {
      base.push([['hardware', 'cpu', vendor, 'updateMicrocode'], mkDefault('config.hardware.enableRedistributableFirmware')]);
    }
  }
  const bindings = mergeBindings(
    { source: 'the hardware scan', bindings: base },
    { source: `the ${input.virtualization} guest settings`, bindings: GUEST_SETTINGS.get(input.virtualization) ?? [] },
    { source: 'the profile', bindings: flattenAttrs(input.extraConfig ?? {}) },
    { source: 'extra settings', bindings: input.extraBindings ?? [] },
  );
  return nixModule({
    header: input.header ?? DEFAULT_HEADER,
    args: ['config', 'lib', 'pkgs', 'modulesPath', ...((input.nixosHardware?.length ?? 0) > 0 ? ['inputs'] : []), '...'],
    imports,
    body: bindingsToNix(bindings),
  });
}

/** The HardwareNixInput fields a report alone decides; the plan adds the profile's parts. */
export function buildHardwareNixInputFromReport(report: HardwareReport): HardwareNixInput {
  return { system: report.arch, virtualization: report.virtualization, cpuVendor: report.cpu.vendor, modules: buildInitrdModules(report) };
}

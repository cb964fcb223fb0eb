/**
 * nixos-facter hardware entries (hwinfo devices) to report disks, PCI devices and NICs. Pure.
 * Shapes seen in real reports: ids as {hex?, name?, value} or a plain string ("Virtio");
 * `unix_device_name` (until 2025) and/or `unix_device_names`; `driver_modules` may be absent.
 */
import { USB_BOOT_MODULES } from './parse-devices.js';
import { PCI_BUS_ID_RE, type Disk, type Nic, type PciDevice } from './report.js';

export type FacterDevice = Record<string, unknown>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : []);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** An hwinfo id's numeric value as lower-case hex of `digits` digits. */
export function idHex(v: unknown, digits: number): string | null {
  if (!isObj(v)) return null;
  if (typeof v.hex === 'string' && /^[0-9a-f]+$/i.test(v.hex)) return v.hex.toLowerCase().slice(-digits).padStart(digits, '0');
  if (typeof v.value === 'number' && Number.isInteger(v.value) && v.value >= 0) return v.value.toString(16).padStart(digits, '0').slice(-digits);
  return null;
}

export function idName(v: unknown): string | null {
  if (typeof v === 'string') return text(v);
  return isObj(v) ? text(v.name) : null;
}

/** Every device of every hardware class, for lookups by `index` and the PCI list. */
export function allDevices(hardware: Record<string, unknown>): FacterDevice[] {
  const out: FacterDevice[] = [];
  for (const value of Object.values(hardware)) if (Array.isArray(value)) for (const d of value) if (isObj(d)) out.push(d);
  return out;
}

export function driverModulesOf(d: FacterDevice): string[] {
  const mods = strs(d.driver_modules);
  const one = text(d.driver_module);
  if (one && !mods.includes(one)) mods.push(one);
  return mods;
}

/** hwinfo names for drivers that are always built in (PCIe port services): no initrd module to load. */
const NOT_LOADABLE = new Set(['pcieport', 'pcieportdrv', 'shpchp']);

/** The disk's modules, then those of the controllers it is attached to (hwinfo `attached_to` indexes). */
function chainModules(d: FacterDevice, byIndex: Map<number, FacterDevice>): string[] {
  const out: string[] = [];
  let cur: FacterDevice | undefined = d;
  for (let hops = 0; cur && hops < 8; hops++) {
    for (const m of driverModulesOf(cur)) if (!NOT_LOADABLE.has(m) && !out.includes(m)) out.push(m);
    const parent: unknown = cur.attached_to;
    cur = typeof parent === 'number' && parent > 0 ? byIndex.get(parent) : undefined;
  }
  return out;
}

function deviceNames(d: FacterDevice): string[] {
  const names = strs(d.unix_device_names);
  const one = text(d.unix_device_name);
  if (one && !names.includes(one)) names.push(one);
  return names;
}

function sizeBytes(d: FacterDevice): number | null {
  const res = Array.isArray(d.resources) ? d.resources.filter(isObj) : [];
  const size = res.find((r) => r.type === 'size' && r.unit === 'sectors');
  if (!size || typeof size.value_1 !== 'number') return null;
  const sector = typeof size.value_2 === 'number' && size.value_2 > 0 ? size.value_2 : 512;
  return size.value_1 * sector;
}

function transportOf(d: FacterDevice, modules: string[]): string | null {
  const bus = idName(d.bus_type)?.toLowerCase();
  if (bus === 'nvme' || modules.includes('nvme')) return 'nvme';
  if (bus === 'usb' || modules.includes('usb_storage') || modules.includes('uas')) return 'usb';
  if (modules.some((m) => m === 'ahci' || m === 'ata_piix' || m.startsWith('sata_') || m.startsWith('pata_'))) return 'sata';
  if (modules.includes('virtio_blk')) return 'virtio';
  if (modules.some((m) => m.startsWith('sdhci') || m === 'mmc_block')) return 'mmc';
  return null;
}

const VIRTUAL_BLOCK = /^(loop|ram|zram|nbd|dm-|md|sr|fd)\d*/;

export function facterDisks(hardware: Record<string, unknown>, warnings: string[]): Disk[] {
  const byIndex = new Map<number, FacterDevice>();
  for (const d of allDevices(hardware)) if (typeof d.index === 'number') byIndex.set(d.index, d);
  const disks: Disk[] = [];
  const list = Array.isArray(hardware.disk) ? hardware.disk : [];
  list.forEach((raw, i) => {
    if (!isObj(raw)) return warnings.push(`facter: hardware.disk[${i}] is not an object; skipped`);
    const names = deviceNames(raw);
    const path = names.find((n) => /^\/dev\/[^/]+$/.test(n));
    if (!path) return warnings.push(`facter: hardware.disk[${i}] has no /dev name; skipped`);
    const name = path.slice('/dev/'.length);
    if (VIRTUAL_BLOCK.test(name)) return;
    const size = sizeBytes(raw);
    if (size === null) return warnings.push(`facter: ${path} has no size; skipped`);
    const driverModules = chainModules(raw, byIndex);
    disks.push({
      name,
      path,
      byId: names.filter((n) => n.startsWith('/dev/disk/by-id/')),
      byPath: names.filter((n) => n.startsWith('/dev/disk/by-path/')),
      sizeBytes: size,
      rotational: false, // hwinfo does not report it; SSD is the common case and nothing depends on it yet
      removable: idName(raw.bus_type)?.toLowerCase() === 'usb',
      readOnly: false,
      type: 'disk',
      transport: transportOf(raw, driverModules),
      model: text(raw.model),
      serial: text(raw.serial),
      driverModules,
      partitions: [],
    });
  });
  return disks;
}

export function facterPci(hardware: Record<string, unknown>): PciDevice[] {
  const seen = new Map<string, PciDevice>();
  for (const d of allDevices(hardware)) {
    const busId = text(d.sysfs_bus_id)?.toLowerCase();
    if (!busId || !PCI_BUS_ID_RE.test(busId) || seen.has(busId)) continue;
    const base = idHex(d.base_class, 2);
    const sub = idHex(d.sub_class, 2);
    const vendorId = idHex(d.vendor, 4);
    const deviceId = idHex(d.device, 4);
    if (!base || !sub || !vendorId || !deviceId) continue;
    seen.set(busId, { busId, class: base + sub, vendorId, deviceId, driverModule: driverModulesOf(d)[0] ?? text(d.driver) });
  }
  return [...seen.values()].sort((a, b) => a.busId.localeCompare(b.busId));
}

/** hwinfo network interface sub-classes that are real links (nixos-facter-modules uses the same list). */
const NIC_TYPES = new Set(['Ethernet', 'WLAN', 'USB-Link', 'Network Interface']);

export function facterNics(hardware: Record<string, unknown>): Nic[] {
  const list = Array.isArray(hardware.network_interface) ? hardware.network_interface.filter(isObj) : [];
  const out: Nic[] = [];
  for (const d of list) {
    const kind = idName(d.sub_class) ?? '';
    const name = deviceNames(d)[0];
    if (!name || !NIC_TYPES.has(kind)) continue;
    // Interfaces without a device link are virtual (tunnels, bridges, containers' veths).
    if (!text(d.sysfs_device_link)) continue;
    out.push({ name, mac: null, addresses: [], driverModule: driverModulesOf(d)[0] ?? null, up: false, wireless: kind === 'WLAN' || name.startsWith('wl') });
  }
  return out;
}

/** Drivers of USB devices that matter at boot (storage, keyboards, card readers), from hardware.usb. */
export function facterUsbBootDrivers(hardware: Record<string, unknown>): string[] {
  const list = Array.isArray(hardware.usb) ? hardware.usb.filter(isObj) : [];
  const out = new Set<string>();
  for (const d of list) for (const m of driverModulesOf(d)) if (USB_BOOT_MODULES.has(m)) out.add(m);
  return [...out].sort();
}

export function facterUsbControllers(hardware: Record<string, unknown>): string[] {
  const list = Array.isArray(hardware.usb_controller) ? hardware.usb_controller.filter(isObj) : [];
  const out: string[] = [];
  for (const d of list) for (const m of driverModulesOf(d)) if (!out.includes(m)) out.push(m);
  return out;
}

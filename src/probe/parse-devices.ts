/** Probe sections about devices: PCI, USB host controllers, NICs with addresses and routes, battery. Pure. */
import { PCI_BUS_ID_RE, type HardwareReport, type Nic, type PciDevice } from './report.js';
import { clean, parseRecords } from './parse-sections.js';

type Lines = readonly string[] | undefined;

/** sysfs hex ("0x030000", "0x10de") to the report's 4-digit form. */
function hex4(v: string | undefined, digits = 4): string | null {
  const m = /^\s*(?:0x)?([0-9a-f]+)\s*$/i.exec(v ?? '');
  if (!m) return null;
  return m[1]!.toLowerCase().padStart(digits, '0').slice(0, digits);
}

/** A bound driver's module, else the driver's own name (built into the kernel). */
function moduleOf(values: Record<string, string>): string | null {
  return clean(values.module) ?? clean(values.driver)?.replace(/-/g, '_') ?? null;
}

export function parsePci(lines: Lines, warnings: string[]): PciDevice[] {
  const out: PciDevice[] = [];
  for (const r of parseRecords(lines ?? [])) {
    // class is 0xCCSSPP: base class, subclass, programming interface; we keep CCSS.
    const cls = hex4(r.values.class?.replace(/^\s*0x/i, '').padStart(6, '0'));
    const vendorId = hex4(r.values.vendor);
    const deviceId = hex4(r.values.device);
    if (!PCI_BUS_ID_RE.test(r.name) || !cls || !vendorId || !deviceId) {
      warnings.push(`pci: ${r.name} has unreadable ids; skipped`);
      continue;
    }
    out.push({ busId: r.name.toLowerCase(), class: cls, vendorId, deviceId, driverModule: moduleOf(r.values) });
  }
  return out;
}

/** Modules that drive USB host controllers: root hubs' parents, plus PCI class 0c03. */
export function parseUsbControllers(lines: Lines, pci: readonly PciDevice[]): string[] {
  const out: string[] = [];
  const add = (m: string | null) => {
    if (m && !out.includes(m)) out.push(m);
  };
  for (const r of parseRecords(lines ?? [])) add(clean(r.values.module));
  for (const d of pci) if (d.class === '0c03') add(d.driverModule);
  return out;
}

/** USB drivers the initrd may need, whatever interface they were seen on (facter gives no classes). */
export const USB_BOOT_MODULES = new Set(['usb_storage', 'uas', 'usbhid', 'rtsx_usb']);

/**
 * `usb-interfaces` records → the drivers of mass-storage interfaces (class 08), keyboards (class
 * 03, protocol 01) and Realtek USB card readers, as nixos-generate-config picks them. Pure.
 */
export function parseUsbBootDrivers(lines: Lines): string[] {
  const out: string[] = [];
  for (const r of parseRecords(lines ?? [])) {
    const module = clean(r.values.module);
    if (!module || out.includes(module)) continue;
    const cls = (clean(r.values.class) ?? '').toLowerCase();
    const keyboard = cls === '03' && clean(r.values.protocol) === '01';
    if (cls === '08' || keyboard || module === 'rtsx_usb') out.push(module);
  }
  return out.filter((m) => /^[A-Za-z0-9_-]+$/.test(m)).sort();
}

/** `ip -o addr show` lines: "2: eth0    inet 10.0.0.2/24 brd … scope global eth0\ …". */
export function parseAddresses(lines: Lines): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of lines ?? []) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet6?\s+(\S+)/.exec(line);
    if (!m) continue;
    const list = out.get(m[1]!) ?? [];
    if (!list.includes(m[2]!)) list.push(m[2]!);
    out.set(m[1]!, list);
  }
  return out;
}

/** `ip route show default` lines; multipath IPv6 routes put `nexthop via … dev …` on following lines. */
export function parseRoutes(lines: Lines, family: 'ipv4' | 'ipv6'): HardwareReport['defaultRoutes'] {
  const out: HardwareReport['defaultRoutes'] = [];
  for (const line of lines ?? []) {
    if (!/^\s*(default|nexthop)\b/.test(line)) continue;
    const dev = /\bdev\s+(\S+)/.exec(line)?.[1];
    if (!dev) continue;
    out.push({ family, gateway: /\bvia\s+(?:inet6?\s+)?(\S+)/.exec(line)?.[1] ?? null, interface: dev });
  }
  return out;
}

/** The reach section (`ipv4_default=0|1`): nothing when the section or the line is missing (an unknown, not a no). */
export function parseReach(lines: Lines): Pick<HardwareReport, 'reach'> {
  const line = (lines ?? []).find((l) => /^ipv4_default=[01]$/.test(l.trim()));
  return line ? { reach: { ipv4DefaultRoute: line.trim().endsWith('1') } } : {};
}

/** Interfaces with a device behind them, plus virtual ones that carry an address (bridges on a host). */
export function parseNics(lines: Lines, addrLines: Lines): Nic[] {
  const addrs = parseAddresses(addrLines);
  const out: Nic[] = [];
  for (const r of parseRecords(lines ?? [])) {
    const v = r.values;
    if (r.name === 'lo' || v.type === '772') continue;
    const addresses = addrs.get(r.name) ?? [];
    if (v.physical !== '1' && addresses.length === 0) continue;
    const mac = clean(v.mac);
    out.push({
      name: r.name,
      mac: mac && mac !== '00:00:00:00:00:00' ? mac.toLowerCase() : null,
      addresses,
      driverModule: moduleOf(v),
      up: v.operstate === 'up',
      wireless: v.wireless === '1',
    });
  }
  return out;
}

/** A system battery; HID peripherals (a wireless mouse) report scope=Device and do not count. */
export function parseBattery(lines: Lines): boolean {
  return parseRecords(lines ?? []).some((r) => r.values.type === 'Battery' && r.values.scope !== 'Device' && r.values.present !== '0');
}

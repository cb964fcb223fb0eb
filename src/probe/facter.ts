/**
 * nixos-facter report (https://github.com/nix-community/nixos-facter, report version 1, plus the
 * short-lived version 2 and the early reports without a version) → HardwareReport. Pure.
 * Shape differences handled: `uefi` present or not, `smbios.chassis` as an object or a list,
 * `unix_device_name` and/or `unix_device_names`, ids with or without `hex`.
 */
import { usageError } from '../errors.js';
import { HardwareReportSchema, type HardwareReport } from './report.js';
import { facterDisks, facterNics, facterPci, facterUsbBootDrivers, facterUsbControllers } from './facter-devices.js';
import { chassisName, cleanDmi, cpuVendorName, PORTABLE_CHASSIS } from './smbios.js';

const HINT = 'pass the JSON file that `nixos-facter` (or `nix run nixpkgs#nixos-facter`) wrote, complete and unedited';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

function bad(what: string): never {
  throw usageError('bad-facter', `not a usable nixos-facter report: ${what}`, HINT);
}

/** JSON text (e.g. a file's content) or an already parsed value. */
function toObject(raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    const textValue = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
    if (!textValue.trim()) bad('the file is empty');
    try {
      value = JSON.parse(textValue);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      bad(/end of (json )?input|unterminated/i.test(msg) ? `the JSON is truncated (${msg})` : `invalid JSON (${msg})`);
    }
  }
  if (!isObj(value)) bad('the top level is not a JSON object');
  return value;
}

// A Map: the file's "system" may be "constructor" or "__proto__", which must find nothing.
const ARCH = new Map<string, HardwareReport['arch']>([['x86_64-linux', 'x86_64-linux'], ['aarch64-linux', 'aarch64-linux'], ['x86_64', 'x86_64-linux'], ['aarch64', 'aarch64-linux']]);

/**
 * Convert a nixos-facter report. Throws usageError 'bad-facter' (naming what is wrong) for
 * malformed or truncated JSON, a missing `hardware` object, an unknown version or architecture.
 */
export function facterToReport(raw: unknown): HardwareReport {
  const r = toObject(raw);
  const warnings: string[] = [];
  const version = r.version;
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version < 1)) bad(`"version" is ${JSON.stringify(version)}, not a report version`);
  if (typeof version === 'number' && version > 2) warnings.push(`facter: report version ${version} is newer than this tool knows (1, 2); read as version 1`);
  if (!isObj(r.hardware)) bad('it has no "hardware" object');
  const hw = r.hardware;

  const cpus = Array.isArray(hw.cpu) ? hw.cpu.filter(isObj) : [];
  const archText = text(r.system) ?? text(cpus[0]?.architecture);
  const arch = archText ? ARCH.get(archText) : undefined;
  if (!arch) bad(archText ? `system "${archText}" is not x86_64-linux or aarch64-linux` : 'it names no "system" and no CPU architecture');

  // Without the "uefi" field nothing says how the machine boots: "unknown", and the plan makes a
  // layout that boots either way, rather than a BIOS-only disk a UEFI-only laptop cannot start.
  let firmware: HardwareReport['firmware'] = 'unknown';
  if (isObj(r.uefi)) firmware = r.uefi.supported === true ? 'uefi' : 'bios';
  else warnings.push('facter: the report has no "uefi" field (nixos-facter before 0.4); firmware unknown');

  const smbios = isObj(r.smbios) ? r.smbios : {};
  const system = isObj(smbios.system) ? smbios.system : {};
  const chassisEntry = (Array.isArray(smbios.chassis) ? smbios.chassis.find(isObj) : smbios.chassis) as unknown;
  const chassisValue = isObj(chassisEntry) && isObj(chassisEntry.chassis_type) ? chassisEntry.chassis_type.value : null;
  const chassis = chassisName(typeof chassisValue === 'number' ? chassisValue : null);

  const memoryBytes = facterMemory(hw);
  if (memoryBytes === 0) warnings.push('facter: no phys_mem resource in hardware.memory; memory unknown');
  const disks = facterDisks(hw, warnings);
  if (disks.length > 0) warnings.push('facter: nixos-facter does not report rotational/removable/read-only; reported as false');

  const battery = chassis !== null && PORTABLE_CHASSIS.has(chassis);
  const report: HardwareReport = {
    version: 1,
    source: 'facter',
    hostname: null,
    arch,
    firmware,
    virtualization: text(r.virtualisation) ?? 'none',
    cpu: facterCpu(cpus),
    memoryBytes,
    dmi: { vendor: cleanDmi(text(system.manufacturer)), product: cleanDmi(text(system.product)), chassis },
    disks,
    pci: facterPci(hw),
    usbControllers: facterUsbControllers(hw),
    usbBootDrivers: facterUsbBootDrivers(hw),
    nics: facterNics(hw),
    defaultRoutes: [],
    battery,
    os: { id: null, name: null, versionId: null, kernel: null, isNixos: false, isInstaller: false, isRescue: false, hasNixosFacter: true },
    // nixos-facter only runs as root.
    access: { user: 'root', isRoot: true, sudo: 'none' },
    tools: { nixosFacter: true, nix: false, kexec: false, tar: false, cpio: false, setsid: false, lsblk: false },
    facter: r,
    warnings: [...warnings, ...(battery ? ['facter: battery inferred from the portable chassis type'] : [])],
  };
  const checked = HardwareReportSchema.safeParse(report);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    bad(`${issue?.path.join('.') || 'report'}: ${issue?.message ?? 'invalid'}`);
  }
  return checked.data;
}

function facterCpu(cpus: Array<Record<string, unknown>>): HardwareReport['cpu'] {
  const first = cpus[0] ?? {};
  const vendorRaw = text(first.vendor_name);
  const vendor = vendorRaw ? (cpuVendorName(vendorRaw) ?? vendorRaw) : text(first.architecture) === 'aarch64' ? 'arm' : 'unknown';
  // hwinfo lists one entry per package (older reports: per logical CPU); siblings = logical CPUs per package.
  const packages = new Map<number, number>();
  for (const c of cpus) {
    const id = typeof c.physical_id === 'number' ? c.physical_id : 0;
    const n = typeof c.siblings === 'number' && c.siblings > 0 ? c.siblings : typeof c.cores === 'number' && c.cores > 0 ? c.cores : 1;
    packages.set(id, Math.max(packages.get(id) ?? 0, n));
  }
  const perPackage = [...packages.values()].reduce((a, b) => a + b, 0);
  const cores = Math.max(perPackage, cpus.length, 1);
  const features = Array.isArray(first.features) ? first.features.filter((f): f is string => typeof f === 'string') : [];
  return { vendor, model: text(first.model_name) ?? text(first.platform), cores, flags: features };
}

function facterMemory(hw: Record<string, unknown>): number {
  let total = 0;
  for (const m of Array.isArray(hw.memory) ? hw.memory : []) {
    if (!isObj(m) || !Array.isArray(m.resources)) continue;
    for (const res of m.resources) if (isObj(res) && res.type === 'phys_mem' && typeof res.range === 'number') total += res.range;
  }
  return total;
}


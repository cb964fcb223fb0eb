/** Probe sections about the machine as a whole: arch, firmware, virtualization, CPU, memory, DMI. Pure. */
import type { HardwareReport } from './report.js';
import { clean, parseKeyValues, toInt } from './parse-sections.js';
import { armCpuModel, chassisName, cleanDmi, cpuVendorName } from './smbios.js';

type Lines = readonly string[] | undefined;

// A Map: `uname -m` from the target may say anything, "constructor" included.
const ARCH = new Map<string, HardwareReport['arch']>([['x86_64', 'x86_64-linux'], ['amd64', 'x86_64-linux'], ['aarch64', 'aarch64-linux'], ['arm64', 'aarch64-linux']]);

/** `uname -m` to a Nix system; null for anything we cannot install (i686, riscv64, …). */
export function parseArch(machine: string | null): HardwareReport['arch'] | null {
  return machine ? (ARCH.get(machine) ?? null) : null;
}

export function parseSystem(lines: Lines): { machine: string | null; kernel: string | null; os: string | null; hostname: string | null } {
  const kv = parseKeyValues(lines ?? []);
  return { machine: clean(kv.machine), kernel: clean(kv.kernel), os: clean(kv.os), hostname: clean(kv.hostname) };
}

export function parseFirmware(lines: Lines): HardwareReport['firmware'] | null {
  const kv = parseKeyValues(lines ?? []);
  if (kv.efi === '1') return 'uefi';
  if (kv.efi === '0') return 'bios';
  return null;
}

/** systemd-detect-virt's names for what DMI shows, for targets without systemd (busybox rescue). */
const DMI_VIRT: Array<[RegExp, string]> = [
  [/^(qemu|kvm)/i, 'kvm'], [/openstack/i, 'kvm'], [/^hetzner/i, 'kvm'], [/^bochs/i, 'bochs'], [/vmware/i, 'vmware'],
  [/virtualbox|innotek/i, 'oracle'], [/^xen/i, 'xen'], [/microsoft corporation.*virtual|^virtual machine$/i, 'microsoft'],
  [/amazon ec2/i, 'amazon'], [/google compute engine/i, 'google'], [/parallels/i, 'parallels'],
];

export interface VirtResult {
  virtualization: string;
  /** True when systemd-detect-virt answered; false when guessed from DMI/cpuinfo hints. */
  detected: boolean;
}

export function parseVirt(lines: Lines, dmi: { vendor: string | null; product: string | null }): VirtResult | null {
  const kv = parseKeyValues(lines ?? []);
  const detected = clean(kv.detect_virt);
  if (detected) return { virtualization: detected, detected: true };
  if (!lines) return null;
  for (const text of [dmi.product, dmi.vendor]) {
    if (!text) continue;
    const hit = DMI_VIRT.find(([re]) => re.test(text));
    if (hit) return { virtualization: hit[1], detected: false };
  }
  if (kv.xen === '1' || clean(kv.hypervisor_type) === 'xen') return { virtualization: 'xen', detected: false };
  if (kv.hypervisor_flag === '1') return { virtualization: 'vm-other', detected: false };
  return { virtualization: 'none', detected: false };
}

export function parseCpu(lines: Lines): HardwareReport['cpu'] | null {
  if (!lines || lines.length === 0) return null;
  const fields = new Map<string, string>();
  for (const line of lines) {
    const m = /^([^:]+?)\s*:\s?(.*)$/.exec(line);
    if (m && !fields.has(m[1]!)) fields.set(m[1]!, m[2]!.trim());
  }
  const processors = toInt(parseKeyValues(lines).processors);
  const x86Vendor = fields.get('vendor_id') ?? null;
  const implementer = fields.get('CPU implementer') ?? null;
  const vendor = x86Vendor ? cpuVendorName(x86Vendor) : implementer ? 'arm' : null;
  const model = fields.get('model name') || (implementer ? armCpuModel(implementer, fields.get('CPU part') ?? null) : null) || fields.get('Model') || null;
  const flags = (fields.get('flags') ?? fields.get('Features') ?? '').split(/\s+/).filter(Boolean);
  if (!vendor && !model && flags.length === 0 && !processors) return null;
  return { vendor: vendor ?? 'unknown', model, cores: processors && processors > 0 ? processors : 1, flags };
}

/** A CPU section can still tell the architecture when `uname -m` failed. */
export function archFromCpu(cpu: HardwareReport['cpu'] | null): HardwareReport['arch'] | null {
  if (!cpu) return null;
  if (cpu.flags.includes('lm')) return 'x86_64-linux';
  if (cpu.vendor === 'arm' && cpu.flags.includes('asimd')) return 'aarch64-linux';
  return null;
}

export function parseMemoryBytes(lines: Lines): number | null {
  for (const line of lines ?? []) {
    const m = /^MemTotal:\s*(\d+)\s*kB/i.exec(line);
    if (m) return Number(m[1]) * 1024;
  }
  return null;
}

export function parseDmi(lines: Lines): HardwareReport['dmi'] & { productVersion: string | null } {
  const kv = parseKeyValues(lines ?? []);
  return {
    vendor: cleanDmi(kv.sys_vendor) ?? cleanDmi(kv.board_vendor),
    product: cleanDmi(kv.product_name) ?? cleanDmi(kv.board_name),
    chassis: chassisName(toInt(kv.chassis_type)),
    productVersion: cleanDmi(kv.product_version),
  };
}

/** SMBIOS names shared by the probe parser and the nixos-facter converter. Pure tables. */

/** SMBIOS 3.x chassis types (DSP0134 §7.4.1), as lower-case kebab names. Bit 7 is the lock flag. */
const CHASSIS: Record<number, string> = {
  1: 'other', 2: 'unknown', 3: 'desktop', 4: 'low-profile-desktop', 5: 'pizza-box', 6: 'mini-tower',
  7: 'tower', 8: 'portable', 9: 'laptop', 10: 'notebook', 11: 'hand-held', 12: 'docking-station',
  13: 'all-in-one', 14: 'sub-notebook', 15: 'space-saving', 16: 'lunch-box', 17: 'server',
  18: 'expansion-chassis', 19: 'sub-chassis', 20: 'bus-expansion-chassis', 21: 'peripheral-chassis',
  22: 'raid-chassis', 23: 'rack-mount', 24: 'sealed-case-pc', 25: 'multi-system', 26: 'compact-pci',
  27: 'advanced-tca', 28: 'blade', 29: 'blade-enclosure', 30: 'tablet', 31: 'convertible',
  32: 'detachable', 33: 'iot-gateway', 34: 'embedded-pc', 35: 'mini-pc', 36: 'stick-pc',
};

export function chassisName(type: number | null): string | null {
  if (type === null) return null;
  return CHASSIS[type & 0x7f] ?? `type-${type & 0x7f}`;
}

/** Chassis that run on a battery: used where a report has no power-supply data (nixos-facter). */
export const PORTABLE_CHASSIS = new Set(['portable', 'laptop', 'notebook', 'hand-held', 'sub-notebook', 'tablet', 'convertible', 'detachable']);

/** Firmware placeholders that mean "nobody filled this in". */
const PLACEHOLDERS = /^(to be filled by o\.?e\.?m\.?|default string|system product name|system manufacturer|not specified|not applicable|none|0+|o\.e\.m\.?)$/i;

export function cleanDmi(v: string | null | undefined): string | null {
  const t = v?.trim();
  if (!t || PLACEHOLDERS.test(t)) return null;
  return t;
}

/** x86 vendor ids and arm64 implementer codes (arch/arm64 cputype.h) to our vendor names. */
export function cpuVendorName(raw: string | null): string | null {
  if (!raw) return null;
  if (raw === 'GenuineIntel') return 'intel';
  if (raw === 'AuthenticAMD') return 'amd';
  return raw;
}

// Maps (from objects): /proc/cpuinfo text must not find Object.prototype's "constructor".
const ARM_IMPLEMENTERS = new Map(Object.entries({
  '0x41': 'ARM', '0x42': 'Broadcom', '0x43': 'Cavium', '0x46': 'Fujitsu', '0x48': 'HiSilicon',
  '0x4e': 'NVIDIA', '0x50': 'APM', '0x51': 'Qualcomm', '0x61': 'Apple', '0xc0': 'Ampere',
}));
const ARM_PARTS = new Map(Object.entries({
  '0x41:0xd03': 'Cortex-A53', '0x41:0xd07': 'Cortex-A57', '0x41:0xd08': 'Cortex-A72', '0x41:0xd0b': 'Cortex-A76',
  '0x41:0xd0c': 'Neoverse-N1', '0x41:0xd40': 'Neoverse-V1', '0x41:0xd49': 'Neoverse-N2', '0x41:0xd4f': 'Neoverse-V2',
  '0xc0:0xac3': 'Ampere-1', '0xc0:0xac4': 'Ampere-1a',
}));

/** "ARM Neoverse-N1" from the implementer and part codes of an arm64 /proc/cpuinfo. */
export function armCpuModel(implementer: string | null, part: string | null): string | null {
  if (!implementer) return null;
  const impl = implementer.toLowerCase();
  const name = ARM_IMPLEMENTERS.get(impl) ?? `implementer ${impl}`;
  const partName = part ? (ARM_PARTS.get(`${impl}:${part.toLowerCase()}`) ?? `part ${part.toLowerCase()}`) : null;
  return partName ? `${name} ${partName}` : name;
}

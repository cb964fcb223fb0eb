/**
 * Disks from the probe: lsblk JSON when the target has lsblk, /sys/block otherwise; by-id and
 * by-path links from `ls -l /dev/disk/…`; controller driver modules from the sysfs chain. Pure.
 */
import type { Disk } from './report.js';
import { clean, parseRecords, toInt, type ProbeRecord } from './parse-sections.js';

type Lines = readonly string[] | undefined;

/** Block devices that are never install targets. */
const VIRTUAL_BLOCK = /^(loop|ram|zram|nbd|dm-|md|sr|fd)\d*/;

/** `ls -l` of a by-id/by-path directory → kernel name (sda, nvme0n1p1) → link paths. */
export function parseDiskLinks(lines: Lines, dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of lines ?? []) {
    const m = /\s(\S+) -> (\S+)\s*$/.exec(line);
    if (!m) continue;
    const target = m[2]!.split('/').pop()!;
    const list = out.get(target) ?? [];
    list.push(`${dir}/${m[1]}`);
    out.set(target, list);
  }
  return out;
}

/** Most stable first: model+serial names before wwn-/eui- ids, which some firmware changes. */
export function sortById(links: readonly string[]): string[] {
  const rank = (p: string) => {
    const n = p.split('/').pop() ?? '';
    if (/^(wwn-|nvme-eui\.|nvme-nvme\.)/.test(n)) return 2;
    if (/_\d+$/.test(n) && n.startsWith('nvme-')) return 1; // nvme-MODEL_SERIAL_1: namespace-suffixed duplicate
    return 0;
  };
  return [...links].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** What lsblk itself would say for TRAN, from the device's sysfs path and name. */
export function transportFromSysfs(name: string, devpath: string | null): string | null {
  const p = devpath ?? '';
  if (name.startsWith('nvme')) return 'nvme';
  if (p.includes('/usb')) return 'usb';
  if (/\/ata\d+\//.test(p)) return 'sata';
  if (name.startsWith('vd')) return 'virtio';
  if (name.startsWith('mmcblk')) return 'mmc';
  return null;
}

function toBool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 'true';
}

function toSize(v: unknown): number | null {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string') return toInt(v);
  return null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? clean(v) : null;
}

interface SysBlockDisk {
  name: string;
  sizeBytes: number | null;
  removable: boolean;
  readOnly: boolean;
  rotational: boolean;
  model: string | null;
  serial: string | null;
  devpath: string | null;
  driverModules: string[];
  partitions: Disk['partitions'];
}

function fromSysRecord(r: ProbeRecord): SysBlockDisk {
  const v = r.values;
  const sectors = toInt(v.size);
  const modules: string[] = [];
  const partitions: Disk['partitions'] = [];
  for (const [key, value] of r.all) {
    if (key === 'chain') {
      const mod = value.trim().split(/\s+/)[2];
      if (mod && mod !== '-' && !modules.includes(mod)) modules.push(mod);
    } else if (key === 'part') {
      const m = /^(\S+)\s+size=(\d+)/.exec(value);
      if (m) partitions.push({ name: m[1]!, sizeBytes: Number(m[2]) * 512, fstype: null, mountpoint: null });
    }
  }
  return {
    name: r.name,
    // /sys/block/X/size counts 512-byte sectors whatever the logical block size.
    sizeBytes: sectors === null ? null : sectors * 512,
    removable: v.removable === '1',
    readOnly: v.ro === '1',
    rotational: v.rotational === '1',
    model: clean(v.model),
    serial: clean(v.serial) ?? clean(v.vserial) ?? null,
    devpath: clean(v.devpath),
    driverModules: modules,
    partitions,
  };
}

export interface DiskInputs {
  lsblk: Lines;
  sysblock: Lines;
  byId: Lines;
  byPath: Lines;
}

export function parseDisks(input: DiskInputs, warnings: string[]): Disk[] {
  const sys = new Map(parseRecords(input.sysblock ?? []).map((r) => [r.name, fromSysRecord(r)]));
  const byId = parseDiskLinks(input.byId, '/dev/disk/by-id');
  const byPath = parseDiskLinks(input.byPath, '/dev/disk/by-path');
  const finish = (d: Omit<Disk, 'byId' | 'byPath' | 'driverModules'>): Disk => {
    const s = sys.get(d.name);
    return {
      ...d,
      byId: sortById(byId.get(d.name) ?? []),
      byPath: [...(byPath.get(d.name) ?? [])].sort(),
      transport: d.transport ?? transportFromSysfs(d.name, s?.devpath ?? null),
      driverModules: s?.driverModules ?? [],
    };
  };

  const fromLsblk = parseLsblk(input.lsblk, warnings);
  if (fromLsblk) return fromLsblk.filter((d) => d.type === 'disk' && !VIRTUAL_BLOCK.test(d.name)).map(finish);

  if (sys.size === 0) {
    warnings.push('disks: neither lsblk nor /sys/block gave any disk');
    return [];
  }
  warnings.push('disks: read from /sys/block (no usable lsblk output); transport and serial may be missing');
  const disks: Disk[] = [];
  for (const s of sys.values()) {
    if (VIRTUAL_BLOCK.test(s.name)) continue;
    if (s.sizeBytes === null) {
      warnings.push(`disks: ${s.name} has no readable size; skipped`);
      continue;
    }
    disks.push(finish({
      name: s.name, path: `/dev/${s.name}`, sizeBytes: s.sizeBytes, rotational: s.rotational, removable: s.removable,
      readOnly: s.readOnly, type: 'disk', transport: null, model: s.model, serial: s.serial, partitions: s.partitions,
    }));
  }
  return disks;
}

type BaseDisk = Omit<Disk, 'byId' | 'byPath' | 'driverModules'>;

/** lsblk -J -b output (numbers are strings in util-linux < 2.33, booleans "0"/"1"); null when unusable. */
function parseLsblk(lines: Lines, warnings: string[]): BaseDisk[] | null {
  const text = (lines ?? []).join('\n').trim();
  if (!text) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    warnings.push('disks: lsblk printed something that is not JSON; using /sys/block');
    return null;
  }
  const devices = (json as { blockdevices?: unknown }).blockdevices;
  if (!Array.isArray(devices)) {
    warnings.push('disks: lsblk JSON has no "blockdevices" list; using /sys/block');
    return null;
  }
  const out: BaseDisk[] = [];
  for (const raw of devices) {
    if (!raw || typeof raw !== 'object') continue;
    const d = raw as Record<string, unknown>;
    const name = str(d.name);
    const size = toSize(d.size);
    if (!name || size === null) {
      warnings.push(`disks: lsblk entry ${name ?? '(no name)'} has no size; skipped`);
      continue;
    }
    const children = Array.isArray(d.children) ? (d.children as Array<Record<string, unknown>>) : [];
    out.push({
      name,
      path: str(d.path) ?? `/dev/${name}`,
      sizeBytes: size,
      rotational: toBool(d.rota),
      removable: toBool(d.rm),
      readOnly: toBool(d.ro),
      type: str(d.type) ?? 'disk',
      transport: str(d.tran),
      model: str(d.model),
      serial: str(d.serial),
      partitions: children
        .filter((c) => c && typeof c === 'object' && str(c.name))
        .map((c) => ({ name: str(c.name)!, sizeBytes: toSize(c.size) ?? 0, fstype: str(c.fstype), mountpoint: str(c.mountpoint) })),
    });
  }
  return out;
}

/**
 * Which disk(s) to install on. Never a removable, USB, zram, loop, optical or read-only device.
 * The chosen path is the most stable name the report has: a /dev/disk/by-id model_serial link,
 * then a WWN/EUI link, then by-path, and only as a last resort /dev/NAME (with a warning, since
 * kernel names can change between boots). Pure: the report in, a choice or a BootstrapError out.
 */
import { usageError } from '../errors.js';
import type { Disk, HardwareReport } from '../probe/report.js';

export interface InstallDisk {
  /** The path disko will use: by-id when possible. */
  path: string;
  byId: string | null;
  /** /dev/NAME */
  devPath: string;
  name: string;
  sizeBytes: number;
  serial: string | null;
  model: string | null;
  /** Every stable link the probe recorded for it (by-id, WWN/EUI, by-path), full paths: what the pre-wipe check matches. */
  links: string[];
}

export interface ExcludedDisk {
  name: string;
  reasons: string[];
}

export interface DiskCandidates {
  candidates: Disk[];
  excluded: ExcludedDisk[];
}

export interface DiskChoice {
  disks: InstallDisk[];
  warnings: string[];
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Why a disk may not be installed on; empty when it may. */
export function buildExclusionReasons(d: Disk): string[] {
  const why: string[] = [];
  if (d.removable) why.push('removable');
  if (d.transport === 'usb') why.push('on USB');
  if (d.name.startsWith('zram')) why.push('zram swap device');
  if (d.type === 'loop' || d.name.startsWith('loop')) why.push('loop device');
  if (d.type === 'rom' || /^sr\d/.test(d.name)) why.push('optical drive');
  if (d.readOnly) why.push('read-only');
  if (why.length === 0 && d.type !== 'disk') why.push(`type ${d.type}, not a disk`);
  if (why.length === 0 && d.sizeBytes === 0) why.push('no medium (size 0)');
  return why;
}

export function buildDiskCandidates(report: HardwareReport): DiskCandidates {
  const candidates: Disk[] = [];
  const excluded: ExcludedDisk[] = [];
  for (const d of [...report.disks].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    const reasons = buildExclusionReasons(d);
    if (reasons.length) excluded.push({ name: d.name, reasons });
    else candidates.push(d);
  }
  return { candidates, excluded };
}

/**
 * Rank of a by-id link: 0 for model_serial forms (nvme-, ata-, scsi-0/1/S vendor forms,
 * virtio-, mmc-), 1 for WWN / EUI forms (they can change with firmware or controller mode),
 * 2 for anything else.
 */
function byIdRank(link: string): number {
  const base = link.slice(link.lastIndexOf('/') + 1);
  if (/^(wwn-|nvme-eui\.|nvme-nvme\.|scsi-3)/.test(base)) return 1;
  if (/^(nvme-|ata-|scsi-[01S]|virtio-|mmc-|md-uuid-)/.test(base)) return 0;
  return 2;
}

/** The most stable by-id link of a disk, partition links ignored; null when there is none. */
export function buildBestById(d: Disk): string | null {
  const links = d.byId.filter((l) => !/-part\d+$/.test(l)).map((l) => (l.startsWith('/') ? l : `/dev/disk/by-id/${l}`));
  const ranked = links.map((l, i) => ({ l, i, r: byIdRank(l) })).sort((a, b) => a.r - b.r || a.i - b.i);
  return ranked[0]?.l ?? null;
}

export function buildInstallDisk(d: Disk): { disk: InstallDisk; warning?: string } {
  const byId = buildBestById(d);
  const byPath = d.byPath.find((l) => !/-part\d+$/.test(l)) ?? null;
  const devPath = d.path || `/dev/${d.name}`;
  const path = byId ?? byPath ?? devPath;
  const disk: InstallDisk = { path, byId, devPath, name: d.name, sizeBytes: d.sizeBytes, serial: d.serial, model: d.model, links: buildDiskLinks(d) };
  if (byId || byPath) return { disk };
  return { disk, warning: `${d.name} has no /dev/disk/by-id or by-path link: using ${devPath}, a name that can change between boots` };
}

/** A short label for lists in errors and prompts: "nvme0n1 /dev/disk/by-id/nvme-… (476.9 GiB, Samsung …)". */
export function describeDisk(d: Disk): string {
  const id = buildBestById(d) ?? d.byPath[0] ?? d.path;
  const extra = [formatBytes(d.sizeBytes), d.model].filter(Boolean).join(', ');
  return `${d.name} ${id} (${extra})`;
}

/** Does `--disk` name this disk? by-id path or link name, by-path, kernel name or /dev path. */
export function diskMatches(d: Disk, wanted: string): boolean {
  const w = wanted.trim();
  const names = [d.name, d.path, `/dev/${d.name}`, ...d.byId, ...d.byPath];
  const full = [...d.byId.map((l) => (l.startsWith('/') ? l : `/dev/disk/by-id/${l}`)), ...d.byPath];
  return names.includes(w) || full.includes(w) || full.some((l) => l.slice(l.lastIndexOf('/') + 1) === w);
}

function resolveWanted(report: HardwareReport, c: DiskCandidates, wanted: string, flag: string): Disk {
  const hit = c.candidates.find((d) => diskMatches(d, wanted));
  if (hit) return hit;
  const other = report.disks.find((d) => diskMatches(d, wanted));
  const valid = c.candidates.map(describeDisk).join('; ') || 'none';
  if (other) {
    const why = buildExclusionReasons(other).join(', ');
    throw usageError('disk-excluded', `${flag} ${wanted} is not usable (${why}); valid disks: ${valid}`, `pass ${flag} with one of the valid disks`);
  }
  throw usageError('unknown-disk', `${flag} ${wanted} is not a disk in the report; valid disks: ${valid}`, `pass ${flag} with a by-id path or kernel name from the list`);
}

function noUsableDisk(c: DiskCandidates): never {
  const what = c.excluded.map((e) => `${e.name}: ${e.reasons.join(', ')}`).join('; ') || 'the report lists no disks';
  throw usageError('no-usable-disk', `no disk to install on (excluded: ${what})`, 'attach a non-removable disk to the machine, or check the probe output with `bootstrap probe`');
}

/**
 * Choose `count` disks (1, or 2 for two-disk layouts). Exactly as many candidates as needed →
 * taken in kernel-name order; more → the caller must name them (--disk, --second-disk).
 */
export function chooseInstallDisks(
  report: HardwareReport,
  opts: { disk?: string; secondDisk?: string; count: 1 | 2; layout?: string },
): DiskChoice {
  const c = buildDiskCandidates(report);
  if (c.candidates.length === 0) noUsableDisk(c);
  if (opts.count === 2 && c.candidates.length < 2) {
    throw usageError(
      'layout-needs-two-disks',
      `layout ${opts.layout ?? ''} needs two disks, but this machine has one usable disk: ${c.candidates.map(describeDisk).join('; ')}`.replace('  ', ' '),
      'choose a single-disk layout with --layout',
    );
  }
  const chosen: Disk[] = [];
  if (opts.disk !== undefined) chosen.push(resolveWanted(report, c, opts.disk, '--disk'));
  if (opts.count === 2 && opts.secondDisk !== undefined) {
    const second = resolveWanted(report, c, opts.secondDisk, '--second-disk');
    if (chosen.includes(second)) throw usageError('same-disk', `--second-disk ${opts.secondDisk} is the same disk as --disk`, 'name two different disks');
    chosen.push(second);
  }
  const rest = c.candidates.filter((d) => !chosen.includes(d));
  const missing = opts.count - chosen.length;
  if (missing > 0) {
    if (rest.length > missing) {
      const flag = chosen.length === 0 ? '--disk' : '--second-disk';
      throw usageError(
        'disk-choice-needed',
        `${rest.length} disks fit; choose with ${flag}: ${rest.map(describeDisk).join('; ')}`,
        `pass ${flag} with a by-id path or kernel name${opts.count === 2 && chosen.length === 0 ? ' (and --second-disk)' : ''}`,
      );
    }
    chosen.push(...rest.slice(0, missing));
  }
  const warnings: string[] = [];
  const disks = chosen.map((d) => {
    const r = buildInstallDisk(d);
    if (r.warning) warnings.push(r.warning);
    return r.disk;
  });
  return { disks, warnings };
}

/** A disk's stable links as full paths (by-id, WWN/EUI, by-path), partition links left out. Pure. */
export function buildDiskLinks(d: Disk): string[] {
  const full = (l: string, dir: string) => (l.startsWith('/') ? l : `${dir}/${l}`);
  return [...d.byId.map((l) => full(l, '/dev/disk/by-id')), ...d.byPath.map((l) => full(l, '/dev/disk/by-path'))].filter((l) => !/-part\d+$/.test(l));
}

/** Every name of a disk in a report: /dev/NAME and each stable link. Pure. */
function diskNames(d: Disk): string[] {
  return [d.path || `/dev/${d.name}`, `/dev/${d.name}`, ...buildDiskLinks(d)];
}

/** What identifies a planned or recorded disk: the manifest's disk record or a plan's InstallDisk. */
export interface DiskIdentity {
  /** The path disko uses: it must still name the disk. */
  path: string;
  byId?: string | null;
  /** Other stable links recorded for it (a plan's InstallDisk has them; a manifest has path and byId). */
  links?: readonly string[];
  sizeBytes: number;
  serial?: string | null;
}

export type DiskMatch = { kind: 'same' } | { kind: 'missing' } | { kind: 'changed'; what: string };

/**
 * Is `want` on the machine the report describes? The one disk-identity rule of rebuild and
 * preflight. The disk is found by any stable name recorded for it (its path, by-id, WWN/EUI or
 * by-path link: a virtio-blk disk without a serial has only /dev/vdX and a by-path link), else by
 * its serial; then its size and serial must be the same, and the path disko uses must still name
 * it (a disk found only by serial or another link has moved). Pure.
 */
export function matchDisk(want: DiskIdentity, report: HardwareReport): DiskMatch {
  // The path disko uses first, then the by-id link, then any other recorded link, then the serial.
  const named = (n: string | null | undefined) => (n ? report.disks.find((d) => diskNames(d).includes(n)) : undefined);
  const disk =
    named(want.path) ?? named(want.byId) ?? (want.links ?? []).map(named).find((d) => d !== undefined) ?? (want.serial ? report.disks.find((d) => d.serial === want.serial) : undefined);
  if (!disk) return { kind: 'missing' };
  const changes: string[] = [];
  if (!diskNames(disk).includes(want.path)) changes.push(`${want.path} no longer names it, it is ${buildBestById(disk) ?? disk.byPath[0] ?? disk.path} now`);
  if (disk.sizeBytes !== want.sizeBytes) changes.push(`size ${want.sizeBytes} → ${disk.sizeBytes} bytes`);
  if (want.serial && disk.serial !== want.serial) changes.push(`serial ${want.serial} → ${disk.serial ?? 'none'}`);
  return changes.length ? { kind: 'changed', what: changes.join(', ') } : { kind: 'same' };
}

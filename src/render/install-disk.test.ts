import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Disk, HardwareReport } from '../probe/report.js';
import { loadReport } from '../../test/helpers/reports.js';
import { isBootstrapError } from '../errors.js';
import { buildBestById, buildDiskCandidates, buildExclusionReasons, chooseInstallDisks, diskMatches } from './install-disk.js';

const GiB = 1024 ** 3;
function disk(name: string, o: Partial<Disk> = {}): Disk {
  return {
    name, path: `/dev/${name}`, byId: [], byPath: [], sizeBytes: 100 * GiB, rotational: false, removable: false, readOnly: false,
    type: 'disk', transport: 'nvme', model: 'M', serial: null, driverModules: [], partitions: [], ...o,
  };
}
const withDisks = (disks: Disk[]): HardwareReport => ({ ...loadReport('generic-bare-metal'), disks });

test('exclusion reasons, one row per kind of device', () => {
  const rows: Array<[Disk, string[]]> = [
    [disk('sda', { removable: true, transport: 'usb' }), ['removable', 'on USB']],
    [disk('sdb', { transport: 'usb' }), ['on USB']],
    [disk('zram0', { transport: null }), ['zram swap device']],
    [disk('loop0', { type: 'loop', readOnly: true }), ['loop device', 'read-only']],
    [disk('sr0', { type: 'rom', removable: true }), ['removable', 'optical drive']],
    [disk('nvme0n1', { readOnly: true }), ['read-only']],
    [disk('md0', { type: 'raid1' }), ['type raid1, not a disk']],
    [disk('sdc', { sizeBytes: 0 }), ['no medium (size 0)']],
    [disk('nvme1n1'), []],
  ];
  for (const [d, why] of rows) assert.deepEqual(buildExclusionReasons(d), why, d.name);
});

test('the most stable by-id link: model_serial before wwn and eui, partitions ignored', () => {
  const rows: Array<[string[], string | null]> = [
    [['/dev/disk/by-id/nvme-eui.0025', '/dev/disk/by-id/nvme-Samsung_SSD_S1'], '/dev/disk/by-id/nvme-Samsung_SSD_S1'],
    [['/dev/disk/by-id/wwn-0x5000', '/dev/disk/by-id/ata-WDC_WD40_X'], '/dev/disk/by-id/ata-WDC_WD40_X'],
    [['/dev/disk/by-id/scsi-3600508b1', '/dev/disk/by-id/scsi-SATA_Micron_1'], '/dev/disk/by-id/scsi-SATA_Micron_1'],
    [['/dev/disk/by-id/wwn-0x5000'], '/dev/disk/by-id/wwn-0x5000'],
    [['nvme-Samsung_SSD_S1-part1', 'nvme-Samsung_SSD_S1'], '/dev/disk/by-id/nvme-Samsung_SSD_S1'],
    [[], null],
  ];
  for (const [byId, best] of rows) assert.equal(buildBestById(disk('x', { byId })), best, byId.join(' '));
});

test('path falls back from by-id to by-path to /dev/NAME, the last with a warning', () => {
  const byPath = chooseInstallDisks(withDisks([disk('vda', { byPath: ['/dev/disk/by-path/pci-0000:00:04.0'] })]), { count: 1 });
  assert.equal(byPath.disks[0]!.path, '/dev/disk/by-path/pci-0000:00:04.0');
  assert.equal(byPath.disks[0]!.byId, null);
  assert.deepEqual(byPath.warnings, []);
  const bare = chooseInstallDisks(withDisks([disk('vda')]), { count: 1 });
  assert.equal(bare.disks[0]!.path, '/dev/vda');
  assert.match(bare.warnings[0]!, /vda has no \/dev\/disk\/by-id or by-path link: using \/dev\/vda/);
});

test('one candidate among excluded devices is chosen without --disk', () => {
  const c = chooseInstallDisks(loadReport('intel-laptop'), { count: 1 });
  assert.equal(c.disks[0]!.name, 'nvme0n1');
  assert.equal(c.disks[0]!.path, '/dev/disk/by-id/nvme-PM9A1_NVMe_Samsung_1024GB_S5JXNF0R123456');
  assert.deepEqual(buildDiskCandidates(loadReport('intel-laptop')).excluded.map((e) => e.name), ['sda', 'zram0']);
});

test('several candidates need --disk; --disk accepts by-id path, link name, kernel name, /dev path', () => {
  const r = loadReport('hetzner-dedicated-2nvme');
  assert.throws(() => chooseInstallDisks(r, { count: 1 }), (e) => isBootstrapError(e) && e.kind === 'usage' && e.code === 'disk-choice-needed' && /2 disks fit; choose with --disk: nvme0n1 .*; nvme1n1/.test(e.message));
  for (const id of ['/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T654321', 'nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T654321', 'nvme1n1', '/dev/nvme1n1', '/dev/disk/by-path/pci-0000:02:00.0-nvme-1']) {
    assert.equal(chooseInstallDisks(r, { count: 1, disk: id }).disks[0]!.name, 'nvme1n1', id);
  }
});

test('two-disk layouts take both disks in name order, or --disk first', () => {
  const r = loadReport('hetzner-dedicated-2nvme');
  assert.deepEqual(chooseInstallDisks(r, { count: 2 }).disks.map((d) => d.name), ['nvme0n1', 'nvme1n1']);
  assert.deepEqual(chooseInstallDisks(r, { count: 2, disk: 'nvme1n1' }).disks.map((d) => d.name), ['nvme1n1', 'nvme0n1']);
  assert.throws(() => chooseInstallDisks(r, { count: 2, disk: 'nvme0n1', secondDisk: '/dev/nvme0n1' }), /same disk/);
});

test('--disk not in the report is a usage error listing the valid disks', () => {
  assert.throws(
    () => chooseInstallDisks(loadReport('hetzner-dedicated-2nvme'), { count: 1, disk: 'sdz' }),
    (e) => isBootstrapError(e) && e.kind === 'usage' && e.code === 'unknown-disk' && /--disk sdz is not a disk in the report; valid disks: nvme0n1 \/dev\/disk\/by-id\/nvme-SAMSUNG.*; nvme1n1/.test(e.message),
  );
});

test('--disk naming an excluded device says why it is excluded', () => {
  assert.throws(
    () => chooseInstallDisks(loadReport('intel-laptop'), { count: 1, disk: 'sda' }),
    (e) => isBootstrapError(e) && e.code === 'disk-excluded' && /--disk sda is not usable \(removable, on USB\); valid disks: nvme0n1/.test(e.message),
  );
});

test('no usable disk is a usage error listing what was excluded and why', () => {
  assert.throws(
    () => chooseInstallDisks(loadReport('no-usable-disk'), { count: 1 }),
    (e) => isBootstrapError(e) && e.kind === 'usage' && e.code === 'no-usable-disk' &&
      e.message === 'no disk to install on (excluded: loop0: loop device, read-only; mmcblk0: removable; sda: removable, on USB; zram0: zram swap device)',
  );
});

test('a two-disk layout on a one-disk machine is a usage error', () => {
  assert.throws(() => chooseInstallDisks(loadReport('intel-laptop'), { count: 2, layout: 'btrfs-raid1' }), (e) => isBootstrapError(e) && e.kind === 'usage' && /layout btrfs-raid1 needs two disks/.test(e.message));
});

test('diskMatches does not match prefixes of other names', () => {
  assert.equal(diskMatches(disk('nvme10n1'), 'nvme1n1'), false);
  assert.equal(diskMatches(disk('sda'), 'sd'), false);
});

test('matchDisk (issue 18): the disk is found by any stable name recorded for it; the path disko uses must still name it', async () => {
  const { matchDisk } = await import('./install-disk.js');
  const vda = disk('vda', { transport: 'virtio', byPath: ['/dev/disk/by-path/pci-0000:00:04.0', '/dev/disk/by-path/virtio-pci-0000:00:04.0'] });
  const r = withDisks([vda]);
  const planned = chooseInstallDisks(r, { count: 1 }).disks[0]!;
  assert.deepEqual(planned.links, ['/dev/disk/by-path/pci-0000:00:04.0', '/dev/disk/by-path/virtio-pci-0000:00:04.0']);
  assert.deepEqual(matchDisk(planned, r), { kind: 'same' });
  // A manifest record (path, size; no links, no serial) of the by-path disk.
  assert.deepEqual(matchDisk({ path: '/dev/disk/by-path/pci-0000:00:04.0', sizeBytes: vda.sizeBytes }, r), { kind: 'same' });
  assert.deepEqual(matchDisk({ path: '/dev/disk/by-path/pci-0000:00:09.0', sizeBytes: vda.sizeBytes }, r), { kind: 'missing' });
  // By-id links given as bare names in a report are full paths to the matcher, WWN links included.
  const sda = disk('sda', { byId: ['ata-WDC_WD40_X', 'wwn-0x5000c500a1b2c3d4'], serial: 'X' });
  const wwnOnly = { path: '/dev/disk/by-id/wwn-0x5000c500a1b2c3d4', sizeBytes: sda.sizeBytes, serial: 'X' };
  assert.deepEqual(matchDisk(wwnOnly, withDisks([sda])), { kind: 'same' });
  // Found by its serial under a new link only: it moved, and disko's path no longer names it.
  const renamed = disk('sda', { byId: ['/dev/disk/by-id/ata-WDC_WD40_Y'], serial: 'X' });
  const m = matchDisk({ path: '/dev/disk/by-id/ata-WDC_WD40_X', byId: '/dev/disk/by-id/ata-WDC_WD40_X', sizeBytes: sda.sizeBytes, serial: 'X' }, withDisks([renamed]));
  assert.equal(m.kind, 'changed');
  assert.match(m.kind === 'changed' ? m.what : '', /\/dev\/disk\/by-id\/ata-WDC_WD40_X no longer names it, it is \/dev\/disk\/by-id\/ata-WDC_WD40_Y now/);
  // A recorded by-path link of the plan finds the disk when the path disko uses is another of its links.
  const withLinks = { path: '/dev/disk/by-id/virtio-abc', links: ['/dev/disk/by-path/pci-0000:00:04.0'], sizeBytes: vda.sizeBytes };
  const found = matchDisk(withLinks, r);
  assert.equal(found.kind, 'changed', 'found by the by-path link, but disko would look for a link that is gone');
});

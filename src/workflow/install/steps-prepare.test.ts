/**
 * Preflight's last look before the wipe: the planned disk(s) must still be on the target, found by
 * by-id or path, with the same size and serial. Each way a disk can drift must stop the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadReport } from '../../../test/helpers/reports.js';
import { isBootstrapError } from '../../errors.js';
import type { HardwareReport } from '../../probe/report.js';
import { loadProfiles } from '../../profiles/load.js';
import { buildHostPlan, type PlanAnswers } from '../../render/plan.js';
import { checkPlannedDisks } from './steps-prepare.js';

const profiles = await loadProfiles();
const planFor = (report: HardwareReport, answers: PlanAnswers) => buildHostPlan({ host: 'db1', report, answers, profiles });

/** The report as the target shows it at preflight, with `edit` applied to disk `name`. */
function probedAgain(report: HardwareReport, name: string, edit: (d: HardwareReport['disks'][number]) => void): HardwareReport {
  const copy = structuredClone(report);
  edit(copy.disks.find((d) => d.name === name)!);
  return copy;
}

const changed = (pattern: RegExp) => (e: unknown) => isBootstrapError(e) && e.code === 'disk-changed' && pattern.test(e.message) && /nothing was wiped/.test(e.message);

const report = loadReport('hetzner-dedicated-2nvme');
const single = planFor(report, { layout: 'single-ext4', disk: 'nvme0n1' });
const FIRST = '/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456';

test('the same machine passes, also when it is probed again with the disks in another order', () => {
  assert.equal(single.installDisk.byId, FIRST);
  checkPlannedDisks('db1', single, report);
  checkPlannedDisks('db1', single, { ...report, disks: [...report.disks].reverse() });
});

test('a planned disk that is gone stops preflight', () => {
  const gone = { ...report, disks: report.disks.filter((d) => d.name !== 'nvme0n1') };
  assert.throws(() => checkPlannedDisks('db1', single, gone), changed(new RegExp(`${FIRST} is no longer on db1`)));
});

test('the same name with another size or serial is another disk', () => {
  const bigger = probedAgain(report, 'nvme0n1', (d) => void (d.sizeBytes += 1));
  assert.throws(() => checkPlannedDisks('db1', single, bigger), changed(/changed on db1 \(size 512110190592 → 512110190593 bytes\)/));
  const swapped = probedAgain(report, 'nvme0n1', (d) => void (d.serial = 'S675NX0T999999'));
  assert.throws(() => checkPlannedDisks('db1', single, swapped), changed(/serial S675NX0T123456 → S675NX0T999999/));
  const noSerial = probedAgain(report, 'nvme0n1', (d) => void (d.serial = null));
  assert.throws(() => checkPlannedDisks('db1', single, noSerial), changed(/serial S675NX0T123456 → none/));
});

test('the by-id link now on another disk: that disk is compared, and its serial differs', () => {
  // The kernel names swapped and the planned by-id link points at the other drive's record.
  const moved = structuredClone(report);
  const [a, b] = moved.disks as [HardwareReport['disks'][number], HardwareReport['disks'][number]];
  a.byId = a.byId.filter((l) => l !== FIRST);
  a.path = '/dev/nvme9n1';
  b.byId.push(FIRST);
  assert.throws(() => checkPlannedDisks('db1', single, moved), changed(/serial S675NX0T123456 → S675NX0T654321/));
});

test('the second disk of a two-disk layout is checked as well', () => {
  const raid = planFor(report, { layout: 'btrfs-raid1' });
  assert.ok(raid.secondDisk, 'btrfs-raid1 plans two disks');
  checkPlannedDisks('db1', raid, report);
  const secondGone = { ...report, disks: report.disks.filter((d) => d.name !== raid.secondDisk!.name) };
  assert.throws(() => checkPlannedDisks('db1', raid, secondGone), changed(new RegExp(`${raid.secondDisk.byId} is no longer on db1`)));
  const secondResized = probedAgain(report, raid.secondDisk.name, (d) => void (d.sizeBytes = 1e12));
  assert.throws(() => checkPlannedDisks('db1', raid, secondResized), changed(/size 512110190592 → 1000000000000 bytes/));
});

test('a disk without by-id links (virtio) is found by its path; no serial to compare is fine', () => {
  const droplet = loadReport('kvm-droplet-no-links');
  const plan = planFor(droplet, {});
  assert.equal(plan.installDisk.byId, null);
  assert.equal(plan.installDisk.path, '/dev/vda');
  checkPlannedDisks('droplet', plan, droplet);
  const shrunk = probedAgain(droplet, 'vda', (d) => void (d.sizeBytes -= 512));
  assert.throws(() => checkPlannedDisks('droplet', plan, shrunk), changed(/\/dev\/vda changed on droplet \(size/));
});

test('issue 18: a virtio-blk disk with only a by-path link (OVH VPS, no serial) is found by that link, also when its /dev name changed', () => {
  const ovh = loadReport('ovh-vps');
  const plan = planFor(ovh, {});
  assert.equal(plan.installDisk.path, '/dev/disk/by-path/pci-0000:00:04.0');
  assert.equal(plan.installDisk.byId, null);
  checkPlannedDisks('vps1', plan, ovh);
  // The kernel calls it vdb now; the by-path link (what disko uses) still names it.
  checkPlannedDisks('vps1', plan, probedAgain(ovh, 'vda', (d) => Object.assign(d, { name: 'vdb', path: '/dev/vdb' })));
  // The link gone (the disk moved to another PCI slot): stopped, naming where it is now.
  const moved = probedAgain(ovh, 'vda', (d) => void (d.byPath = ['/dev/disk/by-path/pci-0000:00:05.0']));
  assert.throws(() => checkPlannedDisks('vps1', plan, moved), changed(/\/dev\/disk\/by-path\/pci-0000:00:04\.0 is no longer on vps1/));
});

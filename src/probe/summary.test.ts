import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HardwareReportSchema, type HardwareReport } from './report.js';
import { buildProbeSummary, formatBytes } from './summary.js';

const disk = (name: string, over: Partial<HardwareReport['disks'][number]> = {}): HardwareReport['disks'][number] => ({
  name, path: `/dev/${name}`, byId: [`/dev/disk/by-id/nvme-Samsung_${name}`], byPath: [], sizeBytes: 512110190592, rotational: false,
  removable: false, readOnly: false, type: 'disk', transport: 'nvme', model: 'Samsung SSD 980 PRO 512GB', serial: 'S1', driverModules: ['nvme'], partitions: [], ...over,
});

const report: HardwareReport = HardwareReportSchema.parse({
  version: 1, source: 'probe', hostname: 'laptop', arch: 'x86_64-linux', firmware: 'uefi', virtualization: 'none',
  cpu: { vendor: 'intel', model: 'Intel(R) Core(TM) i7-12700H', cores: 14, flags: [] }, memoryBytes: 34359738368,
  dmi: { vendor: 'LENOVO', product: '21D6', chassis: 'notebook' },
  disks: [disk('nvme0n1'), disk('nvme1n1', { byId: [], model: null }), disk('sda', { type: 'disk', transport: 'usb', removable: true, rotational: true, sizeBytes: 16008609792 }), disk('sr0', { type: 'rom' })],
  pci: [
    { busId: '0000:00:02.0', class: '0300', vendorId: '8086', deviceId: '46a6', driverModule: 'i915' },
    { busId: '0000:01:00.0', class: '0302', vendorId: '10de', deviceId: '25a0', driverModule: null },
    { busId: '0000:00:14.0', class: '0c03', vendorId: '8086', deviceId: '51ed', driverModule: 'xhci_pci' },
  ],
  usbControllers: ['xhci_pci'],
  nics: [{ name: 'wlp0s20f3', mac: '8c:f8:c5:00:00:01', addresses: ['192.168.1.20/24'], driverModule: 'iwlwifi', up: true, wireless: true }],
  defaultRoutes: [], battery: true,
  os: { id: 'nixos', name: 'NixOS', versionId: '24.05', kernel: '6.6', isNixos: true, isInstaller: true, isRescue: false, hasNixosFacter: false },
  access: { user: 'nixos', isRoot: false, sudo: 'passwordless' },
  tools: { nixosFacter: false, nix: true, kexec: true, tar: true, cpio: true, setsid: true, lsblk: true },
  warnings: ['dmi: board serial unreadable'],
});

test('summary: one host line, then one line per disk, NIC and GPU', () => {
  const lines = buildProbeSummary(report).split('\n');
  assert.equal(lines[0], 'host  laptop  x86_64-linux  uefi  virt=none  Intel(R) Core(TM) i7-12700H (14 cores)  32.0G memory');
  assert.ok(lines.includes('model LENOVO / 21D6 / notebook'));
  assert.ok(lines.includes('os    NixOS installer  (user nixos, sudo passwordless)'));
  const disks = lines.filter((l) => l.startsWith('disk'));
  assert.deepEqual(disks, [
    'disk  /dev/disk/by-id/nvme-Samsung_nvme0n1  476.9G  nvme  Samsung SSD 980 PRO 512GB',
    'disk  /dev/nvme1n1  476.9G  nvme  -',
    'disk  /dev/disk/by-id/nvme-Samsung_sda  14.9G  usb  Samsung SSD 980 PRO 512GB  (removable,rotational)',
  ], 'the CD-ROM is not a disk line');
  assert.deepEqual(lines.filter((l) => l.startsWith('nic')), ['nic   wlp0s20f3  8c:f8:c5:00:00:01  192.168.1.20/24  iwlwifi  (wireless)']);
  assert.deepEqual(lines.filter((l) => l.startsWith('gpu')), [
    'gpu   0000:00:02.0  intel 8086:46a6  driver i915',
    'gpu   0000:01:00.0  nvidia 10de:25a0  driver -',
  ]);
  assert.match(lines.at(-1)!, /1 fact\(s\) could not be read/);
});

test('formatBytes uses binary units like lsblk', () => {
  assert.equal(formatBytes(0), '0B');
  assert.equal(formatBytes(1023), '1023B');
  assert.equal(formatBytes(42949672960), '40.0G');
  assert.equal(formatBytes(2 * 1024 ** 4), '2.0T');
});

test('summary: a target without an IPv4 default route says how an install gets its kexec image; one with a route, an unknown or an installer says nothing', () => {
  const line = (reach: HardwareReport['reach'], isInstaller = false) => buildProbeSummary({ ...report, os: { ...report.os, isInstaller }, ...(reach ? { reach } : {}) }).split('\n').filter((l) => l.startsWith('net'));
  assert.deepEqual(line({ ipv4DefaultRoute: false }), ['net   no IPv4 default route: an install needs --kexec-image, --kexec-url or --kexec-from cache (see --help)']);
  assert.deepEqual(line({ ipv4DefaultRoute: true }), []);
  assert.deepEqual(line(undefined), []);
  assert.deepEqual(line({ ipv4DefaultRoute: false }, true), [], 'an installer already boots no kexec image');
});

/**
 * What each named hardware scenario's machine really shows (test/fixtures/scenarios/<name>/),
 * written by hand from the scenario description, and the field-by-field check of a parsed report
 * against it. Shared by the parser unit test (captured output) and the netns integration test.
 */
import assert from 'node:assert/strict';
import type { HardwareReport } from '../../src/probe/report.js';

export interface DiskExpectation { name: string; sizeBytes: number; transport: string | null; byId: string[]; driverModules: string[]; model: string | null; serial: string | null }
export interface ScenarioExpectation {
  hostname: string;
  firmware: 'uefi' | 'bios';
  virtualization: string;
  cpu: { vendor: string; model: string; cores: number };
  memoryBytes: number;
  dmi: HardwareReport['dmi'];
  disks: DiskExpectation[];
  gpus: Array<{ busId: string; vendorId: string; driverModule: string }>;
  nics: Array<{ name: string; mac: string; driverModule: string; wireless: boolean; addresses: string[] }>;
  defaultRoutes: HardwareReport['defaultRoutes'];
  usbControllers: string[];
  /** Drivers of USB storage, keyboards and card readers (default: none). */
  usbBootDrivers?: string[];
  battery: boolean;
  os: { id: string; isNixos: boolean; isInstaller: boolean; isRescue: boolean };
}

const GiB = 1024 ** 3;
const byId = (...names: string[]) => names.map((n) => `/dev/disk/by-id/${n}`);

export const SCENARIOS: Record<string, ScenarioExpectation> = {
  'hetzner-cloud-bios': {
    hostname: 'rescue', firmware: 'bios', virtualization: 'kvm',
    cpu: { vendor: 'amd', model: 'AMD EPYC-Rome Processor', cores: 2 }, memoryBytes: 1893312 * 1024,
    dmi: { vendor: 'Hetzner', product: 'vServer', chassis: 'other' },
    disks: [{ name: 'sda', sizeBytes: 80003072 * 512, transport: null, byId: byId('scsi-0QEMU_QEMU_HARDDISK_120210839'), driverModules: ['sd_mod', 'virtio_scsi', 'virtio_pci'], model: 'QEMU HARDDISK', serial: null }],
    gpus: [{ busId: '0000:00:01.0', vendorId: '1af4', driverModule: 'virtio_pci' }],
    nics: [{ name: 'eth0', mac: '96:00:03:a1:b2:c3', driverModule: 'virtio_net', wireless: false, addresses: ['203.0.113.10/32', '2001:db8:1234::1/64', 'fe80::9400:3ff:fea1:b2c3/64'] }],
    defaultRoutes: [{ family: 'ipv4', gateway: '172.31.1.1', interface: 'eth0' }, { family: 'ipv6', gateway: 'fe80::1', interface: 'eth0' }],
    usbControllers: ['xhci_pci'], battery: false,
    os: { id: 'debian', isNixos: false, isInstaller: false, isRescue: true },
  },
  'ovh-vps': {
    hostname: 'vps-5f3a2b1c', firmware: 'bios', virtualization: 'kvm',
    cpu: { vendor: 'intel', model: 'Intel Core Processor (Haswell, no TSX)', cores: 2 }, memoryBytes: 3912140 * 1024,
    dmi: { vendor: 'OpenStack Foundation', product: 'OpenStack Nova', chassis: 'other' },
    disks: [{ name: 'vda', sizeBytes: 80 * GiB, transport: 'virtio', byId: [], driverModules: ['virtio_blk', 'virtio_pci'], model: null, serial: null }],
    gpus: [{ busId: '0000:00:02.0', vendorId: '1013', driverModule: 'cirrus_qemu' }],
    nics: [{ name: 'ens3', mac: 'fa:16:3e:4d:2c:11', driverModule: 'virtio_net', wireless: false, addresses: ['198.51.100.23/32', '2001:db8:41::1234/56', 'fe80::f816:3eff:fe4d:2c11/64'] }],
    defaultRoutes: [{ family: 'ipv4', gateway: '198.51.100.1', interface: 'ens3' }, { family: 'ipv6', gateway: '2001:db8:41::1', interface: 'ens3' }],
    usbControllers: ['uhci_hcd'], battery: false,
    os: { id: 'ubuntu', isNixos: false, isInstaller: false, isRescue: false },
  },
  'amd-laptop-nvme-uefi': {
    hostname: 'nixos', firmware: 'uefi', virtualization: 'none',
    cpu: { vendor: 'amd', model: 'AMD Ryzen 7 PRO 6850U with Radeon Graphics', cores: 16 }, memoryBytes: 31999388 * 1024,
    dmi: { vendor: 'LENOVO', product: '21CF004PGE', chassis: 'notebook' },
    disks: [{ name: 'nvme0n1', sizeBytes: 1000215216 * 512, transport: 'nvme', byId: byId('nvme-SAMSUNG_MZVL2512HCJQ-00BL7_S64KNX0T512345', 'nvme-SAMSUNG_MZVL2512HCJQ-00BL7_S64KNX0T512345_1', 'nvme-eui.002538b921a1b2c3'), driverModules: ['nvme'], model: 'SAMSUNG MZVL2512HCJQ-00BL7', serial: 'S64KNX0T512345' }],
    gpus: [{ busId: '0000:33:00.0', vendorId: '1002', driverModule: 'amdgpu' }],
    nics: [{ name: 'wlp2s0', mac: 'e8:65:38:aa:bb:cc', driverModule: 'mt7921e', wireless: true, addresses: ['192.168.178.57/24', '2001:db8:5:1:ea65:38ff:feaa:bbcc/64', 'fe80::ea65:38ff:feaa:bbcc/64'] }],
    defaultRoutes: [{ family: 'ipv4', gateway: '192.168.178.1', interface: 'wlp2s0' }, { family: 'ipv6', gateway: 'fe80::3a10:d5ff:fe12:3456', interface: 'wlp2s0' }],
    usbControllers: ['xhci_pci'], usbBootDrivers: ['rtsx_usb', 'uas', 'usbhid'], battery: true,
    os: { id: 'nixos', isNixos: true, isInstaller: true, isRescue: false },
  },
  'intel-nvidia-laptop': {
    hostname: 'nixos', firmware: 'uefi', virtualization: 'none',
    cpu: { vendor: 'intel', model: '12th Gen Intel(R) Core(TM) i7-12700H', cores: 20 }, memoryBytes: 32528716 * 1024,
    dmi: { vendor: 'Dell Inc.', product: 'XPS 15 9520', chassis: 'notebook' },
    disks: [
      { name: 'nvme0n1', sizeBytes: 2000409264 * 512, transport: 'nvme', byId: byId('nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0W123456A', 'nvme-eui.002538b111a2b3c4'), driverModules: ['nvme'], model: 'Samsung SSD 980 PRO 1TB', serial: 'S5GXNX0W123456A' },
      { name: 'nvme1n1', sizeBytes: 1000215216 * 512, transport: 'nvme', byId: byId('nvme-KXG60ZNV512G_KIOXIA_X0RS10ABCDEF', 'nvme-eui.8ce38e0400a1b2c3'), driverModules: ['nvme'], model: 'KXG60ZNV512G KIOXIA', serial: 'X0RS10ABCDEF' },
    ],
    gpus: [{ busId: '0000:00:02.0', vendorId: '8086', driverModule: 'i915' }, { busId: '0000:01:00.0', vendorId: '10de', driverModule: 'nvidia' }],
    nics: [{ name: 'wlp0s20f3', mac: 'a0:e7:0b:12:34:56', driverModule: 'iwlwifi', wireless: true, addresses: ['10.0.0.42/24', 'fe80::a2e7:bff:fe12:3456/64'] }],
    defaultRoutes: [{ family: 'ipv4', gateway: '10.0.0.1', interface: 'wlp0s20f3' }],
    usbControllers: ['xhci_pci'], battery: true,
    os: { id: 'nixos', isNixos: true, isInstaller: true, isRescue: false },
  },
  'dell-optiplex-sata': {
    hostname: 'optiplex', firmware: 'uefi', virtualization: 'none',
    cpu: { vendor: 'intel', model: 'Intel(R) Core(TM) i5-7500 CPU @ 3.40GHz', cores: 4 }, memoryBytes: 16293232 * 1024,
    dmi: { vendor: 'Dell Inc.', product: 'OptiPlex 7050', chassis: 'desktop' },
    disks: [{ name: 'sda', sizeBytes: 500118192 * 512, transport: 'sata', byId: byId('ata-Samsung_SSD_860_EVO_250GB_S4BFNX0M987654Z', 'wwn-0x5002538e40a1b2c3'), driverModules: ['sd_mod', 'ahci'], model: 'Samsung SSD 860 EVO 250GB', serial: 'S4BFNX0M987654Z' }],
    gpus: [{ busId: '0000:00:02.0', vendorId: '8086', driverModule: 'i915' }],
    nics: [{ name: 'eno1', mac: 'd8:9e:f3:01:02:03', driverModule: 'e1000e', wireless: false, addresses: ['192.168.1.20/24', 'fd12:3456:789a::20/64', 'fe80::da9e:f3ff:fe01:203/64'] }],
    defaultRoutes: [{ family: 'ipv4', gateway: '192.168.1.1', interface: 'eno1' }, { family: 'ipv6', gateway: 'fe80::1', interface: 'eno1' }, { family: 'ipv6', gateway: 'fe80::2', interface: 'eno1' }],
    usbControllers: ['xhci_pci'], battery: false,
    os: { id: 'debian', isNixos: false, isInstaller: false, isRescue: false },
  },
};

/** Field-by-field, so a failure names the fact that is wrong. */
export function checkScenario(r: HardwareReport, e: ScenarioExpectation): void {
  assert.equal(r.source, 'probe');
  assert.equal(r.arch, 'x86_64-linux', 'arch');
  assert.equal(r.hostname, e.hostname, 'hostname');
  assert.equal(r.firmware, e.firmware, 'firmware');
  assert.equal(r.virtualization, e.virtualization, 'virtualization');
  assert.deepEqual({ vendor: r.cpu.vendor, model: r.cpu.model, cores: r.cpu.cores }, e.cpu, 'cpu');
  assert.ok(r.cpu.flags.length > 50, 'cpu flags');
  assert.equal(r.memoryBytes, e.memoryBytes, 'memory');
  assert.deepEqual(r.dmi, e.dmi, 'dmi');
  assert.deepEqual(r.disks.map((d) => d.name), e.disks.map((d) => d.name), 'disk names');
  for (const [i, want] of e.disks.entries()) {
    const d = r.disks[i]!;
    assert.deepEqual(
      { name: d.name, sizeBytes: d.sizeBytes, transport: d.transport, byId: d.byId, driverModules: d.driverModules, model: d.model, serial: d.serial },
      want, `disk ${want.name}`);
    assert.equal(d.path, `/dev/${want.name}`);
  }
  assert.deepEqual(r.pci.filter((p) => p.class.startsWith('03')).map((p) => ({ busId: p.busId, vendorId: p.vendorId, driverModule: p.driverModule })), e.gpus, 'gpus');
  assert.deepEqual(r.nics.map((n) => ({ name: n.name, mac: n.mac, driverModule: n.driverModule, wireless: n.wireless, addresses: n.addresses })), e.nics, 'nics');
  assert.deepEqual(r.defaultRoutes, e.defaultRoutes, 'default routes');
  assert.deepEqual(r.usbControllers, e.usbControllers, 'usb controllers');
  assert.deepEqual(r.usbBootDrivers, e.usbBootDrivers ?? [], 'usb boot drivers');
  assert.equal(r.battery, e.battery, 'battery');
  assert.deepEqual({ id: r.os.id, isNixos: r.os.isNixos, isInstaller: r.os.isInstaller, isRescue: r.os.isRescue }, e.os, 'os');
  assert.deepEqual(r.warnings, [], 'no warnings');
}

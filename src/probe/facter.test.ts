import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isBootstrapError } from '../errors.js';
import { facterToReport } from './facter.js';
import { HardwareReportSchema, isGpu } from './report.js';

const load = (name: string) => readFileSync(new URL(`../../test/fixtures/facter/${name}.json`, import.meta.url), 'utf8');

describe('facterToReport on real reports', () => {
  it('newest shape: uefi, unix_device_names only, chassis list (AMD mini PC)', () => {
    const r = HardwareReportSchema.parse(facterToReport(load('amd-minipc-uefi')));
    assert.equal(r.source, 'facter');
    assert.equal(r.firmware, 'uefi');
    assert.equal(r.virtualization, 'none');
    assert.deepEqual({ vendor: r.cpu.vendor, cores: r.cpu.cores }, { vendor: 'amd', cores: 24 });
    assert.equal(r.memoryBytes, 32212254720);
    assert.deepEqual(r.dmi, { vendor: 'TianBei', product: 'MACO', chassis: 'mini-pc' });
    assert.deepEqual(r.disks.map((d) => [d.path, d.sizeBytes, d.transport, d.serial, d.driverModules]), [['/dev/nvme0n1', 500118192 * 512, 'nvme', 'DTMCCHU26SL0139', ['nvme']]]);
    assert.equal(r.disks[0]!.byId[0], '/dev/disk/by-id/nvme-TOPMORE_CN20_DTMCCHU26SL0139');
    assert.deepEqual(r.pci.filter(isGpu).map((g) => [g.busId, g.vendorId, g.driverModule]), [['0000:c5:00.0', '1002', 'amdgpu']]);
    assert.deepEqual(r.nics.map((n) => [n.name, n.driverModule, n.wireless]), [['wlp194s0', 'mt7925e', true], ['eno1', 'igc', false], ['enp196s0', 'igc', false]]);
    assert.ok(r.usbControllers.includes('xhci_pci'));
    assert.ok(r.facter && typeof r.facter === 'object');
  });

  it('Hetzner Cloud: no uefi field → firmware unknown with a warning; virtio-scsi modules', () => {
    const r = facterToReport(load('hetzner-cloud'));
    assert.equal(r.firmware, 'unknown');
    assert.ok(r.warnings.some((w) => w.includes('no "uefi" field') && w.includes('firmware unknown')));
    assert.equal(r.virtualization, 'kvm');
    assert.deepEqual(r.dmi, { vendor: 'Hetzner', product: 'vServer', chassis: 'other' });
    assert.deepEqual(r.disks.map((d) => [d.name, d.sizeBytes, d.byId, d.driverModules]), [['sda', 80003072 * 512, ['/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_120210839'], ['sd_mod', 'virtio_scsi', 'virtio_pci']]]);
  });

  it('legacy shape: unix_device_name, chassis object, two NVMe disks', () => {
    const r = facterToReport(load('hetzner-dedicated-legacy'));
    assert.deepEqual(r.disks.map((d) => d.path), ['/dev/nvme0n1', '/dev/nvme1n1']);
    assert.equal(r.dmi.chassis, 'desktop');
    assert.equal(r.cpu.vendor, 'intel');
    assert.equal(r.cpu.cores, 8);
    assert.deepEqual(r.pci.filter(isGpu).map((g) => g.driverModule), ['i915']);
    assert.deepEqual(r.nics.map((n) => [n.name, n.driverModule]), [['enp0s31f6', 'e1000e']]);
  });

  it('version 2 report without hex ids: ids from numeric values', () => {
    const r = facterToReport(load('qemu-report-v2'));
    assert.deepEqual(r.pci.filter(isGpu).map((g) => [g.busId, g.vendorId, g.deviceId, g.driverModule]), [['0000:00:02.0', '1234', '1111', 'bochs']]);
    assert.deepEqual(r.disks.map((d) => [d.name, d.transport, d.driverModules]), [['vda', 'virtio', ['virtio_blk', 'virtio_pci']]]);
  });
});

describe('facterToReport on bad input', () => {
  const badFacter = (pattern: RegExp) => (e: unknown) => {
    assert.ok(isBootstrapError(e), 'a BootstrapError');
    assert.equal(e.code, 'bad-facter');
    assert.equal(e.kind, 'usage');
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n') && !/\bat .*\.ts:\d+/.test(e.message), 'one line, no stack');
    return true;
  };
  it('truncated JSON', () => {
    const text = load('hetzner-cloud');
    assert.throws(() => facterToReport(text.slice(0, text.length / 2)), badFacter(/truncated/));
  });
  it('malformed JSON', () => assert.throws(() => facterToReport('{"version": 1,, }'), badFacter(/invalid JSON/)));
  it('empty file', () => assert.throws(() => facterToReport('  \n'), badFacter(/empty/)));
  it('not an object', () => assert.throws(() => facterToReport('[1,2]'), badFacter(/not a JSON object/)));
  it('no hardware', () => assert.throws(() => facterToReport({ version: 1, system: 'x86_64-linux' }), badFacter(/no "hardware"/)));
  it('bad version', () => assert.throws(() => facterToReport({ version: 'one', hardware: {} }), badFacter(/"version"/)));
  it('unsupported system', () => assert.throws(() => facterToReport({ version: 1, system: 'riscv64-linux', hardware: {} }), badFacter(/riscv64-linux/)));
});

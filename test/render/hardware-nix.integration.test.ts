/**
 * hardware.nix for every report fixture parses and evaluates with stub module arguments, and the
 * evaluated module has the platform, modules, guest settings and microcode lines we expect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildHardwareNix, buildHardwareNixInputFromReport, buildInitrdModules } from '../../src/render/hardware-nix.js';
import { buildBootLoader, requiredInitrdModulesForLayout } from '../../src/render/disko/index.js';
import { nixRaw } from '../../src/nix/serialize.js';
import type { HardwareReport } from '../../src/probe/report.js';
import { evalModuleJson, parseNix } from '../helpers/nix.js';
import { loadReport, reportScenarios } from '../helpers/reports.js';
import { assertGolden } from '../helpers/golden.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const STUB = (firmware: boolean) =>
  `{ config = { hardware.enableRedistributableFirmware = ${firmware}; }; lib = { mkDefault = x: x; }; pkgs = { }; modulesPath = "/x";` +
  ` inputs = { nixos-hardware.nixosModules = { common-cpu-intel = "nh:cpu-intel"; "common-pc-laptop" = "nh:laptop"; }; }; }`;

const evalHardware = async (text: string, firmware = true): Promise<J> => {
  await parseNix(text);
  return (await evalModuleJson(text, STUB(firmware))) as J;
};

for (const scenario of reportScenarios()) {
  test(`hardware.nix for ${scenario} evaluates to what the report implies`, async () => {
    const report = loadReport(scenario);
    const ev = await evalHardware(buildHardwareNix(buildHardwareNixInputFromReport(report)));
    const vm = report.virtualization !== 'none';
    assert.equal(ev.nixpkgs.hostPlatform, report.arch);
    assert.deepEqual(ev.boot.initrd.availableKernelModules, buildInitrdModules(report).initrdAvailable);
    assert.equal(ev.networking.useDHCP, true);
    const kernel = ev.boot.kernelModules as string[];
    assert.equal(kernel.includes('kvm-intel'), report.cpu.flags.includes('vmx'));
    assert.equal(kernel.includes('kvm-amd'), report.cpu.flags.includes('svm'));
    // Disk drivers of every real disk are in the initrd.
    for (const d of report.disks.filter((x) => x.type === 'disk' && !/^(loop|zram)/.test(x.name))) {
      for (const m of d.driverModules) assert.ok(ev.boot.initrd.availableKernelModules.includes(m), `${d.name} needs ${m}`);
    }
    if (vm) {
      assert.equal(ev.hardware, undefined, 'no microcode or firmware lines in a guest');
      assert.deepEqual(ev.imports, ['/x/profiles/qemu-guest.nix']);
      for (const m of ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net']) assert.ok(ev.boot.initrd.availableKernelModules.includes(m), m);
    } else {
      assert.equal(ev.hardware.enableRedistributableFirmware, true);
      const vendor = report.cpu.vendor;
      assert.deepEqual(Object.keys(ev.hardware.cpu ?? {}), vendor === 'intel' || vendor === 'amd' ? [vendor] : []);
      if (vendor === 'intel' || vendor === 'amd') assert.equal(ev.hardware.cpu[vendor].updateMicrocode, true);
      assert.equal(ev.imports, undefined, 'no imports on bare metal without a profile');
      assert.ok(ev.boot.initrd.availableKernelModules.includes('usbhid'), 'USB keyboard at the LUKS prompt');
    }
  });
}

test('microcode follows enableRedistributableFirmware', async () => {
  const ev = await evalHardware(buildHardwareNix(buildHardwareNixInputFromReport(loadReport('amd-laptop'))), false);
  assert.equal(ev.hardware.cpu.amd.updateMicrocode, false);
});

const withVirt = (scenario: string, virtualization: string): HardwareReport => ({ ...loadReport(scenario), virtualization });

test('guest settings per hypervisor', async () => {
  const cases: Array<[string, (ev: J) => void]> = [
    ['microsoft', (ev) => assert.equal(ev.virtualisation.hypervGuest.enable, true)],
    ['vmware', (ev) => assert.equal(ev.virtualisation.vmware.guest.enable, true)],
    ['oracle', (ev) => assert.equal(ev.virtualisation.virtualbox.guest.enable, true)],
    ['qemu', (ev) => assert.deepEqual(ev.imports, ['/x/profiles/qemu-guest.nix'])],
  ];
  for (const [virt, check] of cases) {
    const ev = await evalHardware(buildHardwareNix(buildHardwareNixInputFromReport(withVirt('proxmox-guest', virt))));
    check(ev);
    assert.equal(ev.hardware, undefined, `${virt}: no microcode in a guest`);
    if (virt !== 'qemu') assert.equal(ev.imports, undefined, `${virt}: no qemu profile`);
  }
});

test('SD card readers and eMMC get their modules', () => {
  const base = loadReport('generic-bare-metal');
  const report: HardwareReport = {
    ...base,
    pci: [...base.pci, { busId: '0000:02:00.0', class: 'ff00', vendorId: '10ec', deviceId: '525a', driverModule: 'rtsx_pci' },
      { busId: '0000:00:1e.6', class: '0805', vendorId: '8086', deviceId: '9d2b', driverModule: 'sdhci_pci' }],
  };
  const m = buildInitrdModules(report).initrdAvailable;
  for (const x of ['rtsx_pci', 'rtsx_pci_sdmmc', 'sdhci_pci', 'mmc_block', 'ahci']) assert.ok(m.includes(x), x);
  assert.ok(!buildInitrdModules(base).initrdAvailable.includes('mmc_block'));
});

test('profile and layout additions are merged, and conflicts refused', async () => {
  const report = loadReport('intel-laptop');
  const boot = buildBootLoader('luks-btrfs', 'uefi', 'systemd-boot');
  const text = buildHardwareNix({
    ...buildHardwareNixInputFromReport(report),
    extraInitrdModules: [...requiredInitrdModulesForLayout('luks-btrfs'), 'nvme'],
    initrdKernelModules: ['i915'],
    extraKernelModules: ['msr'],
    kernelParams: ['mem_sleep_default=deep', 'quiet "odd"'],
    nixosHardware: ['common-cpu-intel', 'common-pc-laptop'],
    imports: [nixRaw('(modulesPath + "/hardware/extra.nix")')],
    extraConfig: { services: { fwupd: { enable: true } }, hardware: { bluetooth: { enable: true } } },
    extraBindings: boot.lines,
  });
  const ev = await evalHardware(text);
  assert.deepEqual(ev.imports, ['nh:cpu-intel', 'nh:laptop', '/x/hardware/extra.nix']);
  assert.ok(ev.boot.initrd.availableKernelModules.includes('dm_crypt'));
  assert.equal(ev.boot.initrd.availableKernelModules.filter((m: string) => m === 'nvme').length, 1, 'no duplicates');
  assert.deepEqual(ev.boot.initrd.kernelModules, ['i915']);
  assert.deepEqual(ev.boot.kernelModules, ['kvm-intel', 'msr']);
  assert.deepEqual(ev.boot.kernelParams, ['mem_sleep_default=deep', 'quiet "odd"']);
  assert.equal(ev.services.fwupd.enable, true);
  assert.equal(ev.hardware.bluetooth.enable, true);
  assert.equal(ev.hardware.cpu.intel.updateMicrocode, true);
  assert.deepEqual(ev.boot.loader, { 'systemd-boot': { enable: true }, efi: { canTouchEfiVariables: true } });
  assertGolden('hardware/intel-laptop-luks.nix', text);

  assert.throws(
    () => buildHardwareNix({ ...buildHardwareNixInputFromReport(report), extraConfig: { networking: { useDHCP: false } } }),
    /networking\.useDHCP is set by both the hardware scan and the profile/,
  );
  assert.throws(
    () => buildHardwareNix({ ...buildHardwareNixInputFromReport(report), extraConfig: { boot: { initrd: { kernelModules: { x: 1 } } } } }),
    /conflicts with boot\.initrd\.kernelModules/,
  );
  assert.throws(() => buildHardwareNix({ ...buildHardwareNixInputFromReport(report), extraKernelModules: ['x; rm'] }), /not a kernel module name/);
});

test('boot loader lines follow the boot mode and layout', () => {
  const paths = (p: ReturnType<typeof buildBootLoader>) => Object.fromEntries(p.lines.map(([k, v]) => [k.join('.'), v]));
  assert.deepEqual(paths(buildBootLoader('single-ext4', 'bios')), { 'boot.loader.grub.enable': true });
  assert.deepEqual(paths(buildBootLoader('single-ext4', 'hybrid')), {
    'boot.loader.grub.enable': true,
    'boot.loader.grub.efiSupport': true,
    'boot.loader.grub.efiInstallAsRemovable': true,
  });
  assert.equal(buildBootLoader('luks-btrfs', 'uefi').loader, 'systemd-boot');
  const md = buildBootLoader('mdadm-raid1', 'uefi', 'systemd-boot');
  assert.equal(md.loader, 'grub');
  assert.deepEqual(paths(md)['boot.loader.grub.devices'], ['nodev']);
  assert.match(md.warnings[0]!, /mirrored ESP/);
  const bios = buildBootLoader('single-btrfs', 'bios', 'systemd-boot');
  assert.equal(bios.loader, 'grub');
  assert.match(bios.warnings[0]!, /needs UEFI/);
  assert.equal(buildBootLoader('single-ext4', 'uefi', 'grub').loader, 'grub');
});

test('golden hardware.nix files', () => {
  for (const s of ['hetzner-cloud-x86', 'hetzner-cloud-arm64', 'generic-bare-metal']) {
    assertGolden(`hardware/${s}.nix`, buildHardwareNix(buildHardwareNixInputFromReport(loadReport(s))));
  }
});

test('USB boot devices seen on the machine reach the initrd as nixos-generate-config adds them: uas, usbhid, a USB card reader with its SD half', async () => {
  const { parseProbeOutput } = await import('../../src/probe/parse.js');
  const { readFileSync } = await import('node:fs');
  const { REPO_ROOT } = await import('../helpers/cli.js');
  const report = parseProbeOutput(readFileSync(`${REPO_ROOT}test/fixtures/scenarios/amd-laptop-nvme-uefi/probe-output.txt`, 'utf8'));
  assert.deepEqual(report.usbBootDrivers, ['rtsx_usb', 'uas', 'usbhid'], 'the webcam (class 0e) is not a boot device');
  const m = buildInitrdModules(report);
  for (const mod of ['uas', 'usbhid', 'rtsx_usb', 'rtsx_usb_sdmmc', 'mmc_block']) assert.ok(m.initrdAvailable.includes(mod), mod);
  assert.ok(!m.initrdAvailable.includes('uvcvideo'));
  const hw = (await evalModuleJson(buildHardwareNix(buildHardwareNixInputFromReport(report)))) as { boot: { initrd: { availableKernelModules: string[] } } };
  assert.ok(hw.boot.initrd.availableKernelModules.includes('rtsx_usb_sdmmc'));
  // A report from before this field (facts.json of an older run) still reads, with none.
  const { HardwareReportSchema } = await import('../../src/probe/report.js');
  const { usbBootDrivers: _drop, ...old } = report;
  assert.deepEqual(HardwareReportSchema.parse(old).usbBootDrivers, []);
});

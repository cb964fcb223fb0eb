/**
 * Every layout × boot mode renders a disko.nix that real Nix parses and evaluates, and the
 * evaluated tree has the devices, partitions, filesystems, mounts, LUKS and md settings we meant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOOT_MODES, DISKO_LAYOUTS, LAYOUT_NAMES, buildDiskoConfig, findLayout, type BootMode, type DiskoInput, type LayoutName } from '../../src/render/disko/index.js';
import { evalTextJson, parseNix } from '../helpers/nix.js';
import { assertGolden } from '../helpers/golden.js';
import { isBootstrapError } from '../../src/errors.js';

const GIB = 1024 ** 3;
const D1 = '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0T123456A';
const D2 = '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNX0T654321B';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Mount {
  format: string;
  options: string[];
  /** How it is reached: "disk:main" / "md:root" / "luks:crypted" chain, outermost first. */
  via: string[];
  subvol?: string;
}

/** Flatten an evaluated disko tree into mountpoint → how it is stored, plus the swap devices. */
function collect(devices: J): { mounts: Record<string, Mount>; swaps: Array<{ via: string[]; resume: boolean; random: boolean }> } {
  const mounts: Record<string, Mount> = {};
  const swaps: Array<{ via: string[]; resume: boolean; random: boolean }> = [];
  const walk = (c: J | undefined, via: string[]): void => {
    if (!c) return;
    switch (c.type) {
      case 'gpt':
        for (const p of Object.values(c.partitions as J)) walk((p as J).content, via);
        return;
      case 'filesystem':
        if (c.mountpoint) mounts[c.mountpoint] = { format: c.format, options: c.mountOptions ?? [], via };
        return;
      case 'btrfs':
        for (const [name, s] of Object.entries(c.subvolumes as J)) {
          if ((s as J).mountpoint) mounts[(s as J).mountpoint] = { format: 'btrfs', options: (s as J).mountOptions ?? [], via, subvol: name };
        }
        return;
      case 'luks':
        walk(c.content, [...via, `luks:${c.name}`]);
        return;
      case 'swap':
        swaps.push({ via, resume: c.resumeDevice === true, random: c.randomEncryption === true });
        return;
      case 'mdraid':
        return; // the array's content is walked once, from disko.devices.mdadm
      default:
        throw new Error(`unexpected content type ${c.type}`);
    }
  };
  for (const [name, d] of Object.entries(devices.disk as J)) walk((d as J).content, [`disk:${name}`]);
  for (const [name, md] of Object.entries((devices.mdadm ?? {}) as J)) {
    assert.equal((md as J).type, 'mdadm');
    assert.equal((md as J).level, 1, `md ${name} is a mirror`);
    walk((md as J).content, [`md:${name}`]);
  }
  return { mounts, swaps };
}

const Z = ['compress=zstd', 'noatime'];
const btrfsMounts = (via: string[]): Record<string, Mount> => ({
  '/': { format: 'btrfs', options: Z, via, subvol: '/root' },
  '/home': { format: 'btrfs', options: Z, via, subvol: '/home' },
  '/nix': { format: 'btrfs', options: Z, via, subvol: '/nix' },
  '/var/log': { format: 'btrfs', options: Z, via, subvol: '/log' },
});

function expectedMounts(layout: LayoutName, boot: BootMode): Record<string, Mount> {
  const esp = (via: string[]): Record<string, Mount> => (boot === 'bios' ? {} : { '/boot': { format: 'vfat', options: ['umask=0077'], via } });
  switch (layout) {
    case 'single-ext4':
      return { ...esp(['disk:main']), '/': { format: 'ext4', options: [], via: ['disk:main'] } };
    case 'single-btrfs':
      return { ...esp(['disk:main']), ...btrfsMounts(['disk:main']) };
    case 'luks-btrfs':
      return {
        ...esp(['disk:main']),
        ...(boot === 'bios' ? { '/boot': { format: 'ext4', options: [], via: ['disk:main'] } } : {}),
        ...btrfsMounts(['disk:main', 'luks:crypted']),
      };
    case 'btrfs-raid1':
      return { ...esp(['md:boot']), ...btrfsMounts(['disk:mirror']) };
    case 'data-disk':
      return { ...esp(['disk:main']), '/': { format: 'ext4', options: [], via: ['disk:main'] }, '/data': { format: 'ext4', options: [], via: ['disk:data'] } };
    case 'mdadm-raid1':
      return { ...esp(['md:boot']), '/': { format: 'ext4', options: [], via: ['md:root'] } };
  }
}

const inputFor = (layout: LayoutName, boot: BootMode, extra: Partial<DiskoInput> = {}): DiskoInput => ({
  layout,
  boot,
  disks: findLayout(layout).disksRequired === 2 ? [D1, D2] : [D1],
  swapBytes: 4 * GIB,
  ...extra,
});

test('the catalogue lists every layout with its data', () => {
  assert.deepEqual(DISKO_LAYOUTS.map((l) => l.name), [...LAYOUT_NAMES]);
  assert.equal(findLayout('ext4').name, 'single-ext4');
  assert.equal(findLayout('btrfs').name, 'single-btrfs');
  assert.equal(findLayout('mdadm-raid1').disksRequired, 2);
  assert.equal(findLayout('luks-btrfs').encrypted, true);
  assert.ok(findLayout('luks-btrfs').recommendedFor.includes('laptop'));
});

for (const layout of LAYOUT_NAMES) {
  for (const boot of BOOT_MODES) {
    test(`${layout} × ${boot}: parses, evaluates, and has the intended disks, partitions and mounts`, async () => {
      const text = buildDiskoConfig(inputFor(layout, boot));
      await parseNix(text);
      const ev = (await evalTextJson(text)) as J;
      const devices = ev.disko.devices as J;
      const disks = devices.disk as J;
      const two = findLayout(layout).disksRequired === 2;
      assert.deepEqual(Object.keys(disks).sort(), two ? (layout === 'data-disk' ? ['data', 'main'] : ['main', 'mirror']) : ['main']);
      assert.equal(disks.main.device, D1);
      if (two) assert.equal(disks[layout === 'data-disk' ? 'data' : 'mirror'].device, D2);

      // Boot partitions follow the boot mode, on every disk that boots.
      const booting = layout === 'data-disk' || !two ? ['main'] : ['main', 'mirror'];
      for (const name of booting) {
        const parts = disks[name].content.partitions as J;
        assert.equal(disks[name].content.type, 'gpt');
        const types = Object.values(parts).map((p) => (p as J).type).filter(Boolean).sort();
        assert.deepEqual(types, boot === 'uefi' ? ['EF00'] : boot === 'bios' ? ['EF02'] : ['EF00', 'EF02'], `${name} boot partitions`);
        if (boot !== 'uefi') assert.equal(parts.boot.size, '1M');
        if (boot !== 'bios') assert.equal(parts.ESP.size, '1024M');
      }

      const { mounts, swaps } = collect(devices);
      assert.deepEqual(mounts, expectedMounts(layout, boot));
      assert.equal(swaps.length, 1, 'one swap device');
      if (layout === 'mdadm-raid1' || layout === 'btrfs-raid1') {
        assert.deepEqual(swaps[0]!.via, ['md:swap']);
        assert.equal(devices.mdadm.swap.level, 1);
        if (boot !== 'bios') assert.equal(devices.mdadm.boot.metadata, '1.0', 'ESP mirror keeps its superblock at the end');
        else assert.equal(devices.mdadm.boot, undefined);
      }
      if (layout === 'luks-btrfs') {
        const luks = disks.main.content.partitions.luks.content as J;
        assert.equal(luks.passwordFile, '/tmp/secret.key');
        assert.equal(luks.settings.keyFile, undefined, 'a keyFile would be looked for at boot');
        assert.deepEqual(luks.settings, { allowDiscards: true });
        assert.deepEqual(swaps[0], { via: ['disk:main'], resume: false, random: true });
      }
      if (layout === 'btrfs-raid1') {
        assert.equal(disks.main.content.partitions.root.content, undefined, 'first disk root is a raw raid member');
        assert.deepEqual(disks.mirror.content.partitions.root.content.extraArgs, ['-f', '-d', 'raid1', '-m', 'raid1', '/dev/disk/by-partlabel/disk-main-root']);
      }
    });
  }
}

test('swap size, hibernation, extra subvolumes and no-swap are rendered as asked', async () => {
  const luks = (await evalTextJson(
    buildDiskoConfig(inputFor('luks-btrfs', 'uefi', { swapBytes: 16 * GIB + 1, hibernate: true, subvolumes: ['containers', 'dev', 'games=/srv/games'] })),
  )) as J;
  const parts = luks.disko.devices.disk.main.content.partitions as J;
  assert.equal(parts.cryptswap.size, '16385M', 'rounded up to whole MiB');
  assert.equal(parts.cryptswap.content.type, 'luks');
  assert.equal(parts.cryptswap.content.passwordFile, '/tmp/secret.key');
  assert.deepEqual(parts.cryptswap.content.content, { type: 'swap', resumeDevice: true });
  const subs = parts.luks.content.content.subvolumes as J;
  assert.deepEqual(Object.keys(subs).sort(), ['/containers', '/dev', '/games', '/home', '/log', '/nix', '/root']);
  assert.equal(subs['/containers'].mountpoint, '/var/lib/containers');
  assert.equal(subs['/dev'].mountpoint, '/srv/dev');
  assert.equal(subs['/games'].mountpoint, '/srv/games');

  const plain = (await evalTextJson(buildDiskoConfig(inputFor('single-ext4', 'bios', { swapBytes: 0 })))) as J;
  assert.deepEqual(Object.keys(plain.disko.devices.disk.main.content.partitions).sort(), ['boot', 'root']);
  const md = (await evalTextJson(buildDiskoConfig(inputFor('mdadm-raid1', 'bios', { swapBytes: 0 })))) as J;
  assert.deepEqual(Object.keys(md.disko.devices.mdadm), ['root']);
  const data = (await evalTextJson(buildDiskoConfig(inputFor('data-disk', 'uefi', { dataFormat: 'xfs' })))) as J;
  assert.equal(data.disko.devices.disk.data.content.partitions.data.content.format, 'xfs');
});

test('user text stays inside string literals', async () => {
  // disko pastes device paths into a shell script: shell characters are refused too (issue 10).
  for (const evil of ['/dev/disk/by-id/x";};evil={', '/dev/x${builtins.abort 1}', '/dev/../etc/passwd', 'sda', '/dev/a b', '/dev/disk/by-id/usb-Vendor_{x}_0:0+a,b@c;d#e', '/dev/sda|x', '/dev/sda&', '/dev/a<b>', '/dev/a\x1b[2J']) {
    assert.throws(() => buildDiskoConfig(inputFor('single-ext4', 'uefi', { disks: [evil] })), /not a device path/);
  }
  // Characters legal in by-id names evaluate to the same string.
  const odd = '/dev/disk/by-id/usb-Vendor_X_0:0+a,b@c.d-e';
  const ev = (await evalTextJson(buildDiskoConfig(inputFor('single-ext4', 'uefi', { disks: [odd] })))) as J;
  assert.equal(ev.disko.devices.disk.main.device, odd);
});

function usageErrorMatching(re: RegExp) {
  return (e: unknown) => isBootstrapError(e) && e.kind === 'usage' && re.test(e.message) && !e.message.includes('\n');
}

test('bad input is a one-line usage error naming the valid choices', () => {
  assert.throws(() => findLayout('zfs'), usageErrorMatching(/unknown layout "zfs"; valid layouts: single-ext4, single-btrfs, luks-btrfs, btrfs-raid1, data-disk, mdadm-raid1/));
  assert.throws(() => buildDiskoConfig(inputFor('mdadm-raid1', 'uefi', { disks: [D1] })), usageErrorMatching(/needs 2 disks.*layouts that fit: single-ext4, single-btrfs, luks-btrfs$/));
  assert.throws(() => buildDiskoConfig(inputFor('single-ext4', 'uefi', { disks: [D1, D2] })), usageErrorMatching(/uses 1 disk/));
  assert.throws(() => buildDiskoConfig(inputFor('mdadm-raid1', 'uefi', { disks: [D1, D1] })), usageErrorMatching(/same disk/));
  assert.throws(() => buildDiskoConfig(inputFor('single-btrfs', 'uefi', { subvolumes: ['nix'] })), usageErrorMatching(/always created/));
  assert.throws(() => buildDiskoConfig(inputFor('single-btrfs', 'uefi', { subvolumes: ['x=/proc'] })), usageErrorMatching(/system uses/));
  assert.throws(() => buildDiskoConfig(inputFor('single-btrfs', 'uefi', { subvolumes: ['x=../etc'] })), usageErrorMatching(/absolute path/));
  assert.throws(() => buildDiskoConfig(inputFor('single-btrfs', 'uefi', { subvolumes: ['a b'] })), usageErrorMatching(/letters, digits/));
  assert.throws(() => buildDiskoConfig(inputFor('single-btrfs', 'uefi', { subvolumes: ['a', 'b=/a'] })), usageErrorMatching(/given twice/));
  assert.throws(() => buildDiskoConfig(inputFor('single-ext4', 'uefi', { swapBytes: 0, hibernate: true })), usageErrorMatching(/hibernation needs swap/));
});

test('golden disko files', () => {
  assertGolden('disko/luks-btrfs-uefi-hibernate.nix', buildDiskoConfig(inputFor('luks-btrfs', 'uefi', { swapBytes: 32 * GIB, hibernate: true, subvolumes: ['containers'] })));
  assertGolden('disko/single-ext4-bios.nix', buildDiskoConfig(inputFor('single-ext4', 'bios', { disks: ['/dev/sda'], swapBytes: 2 * GIB })));
  assertGolden('disko/single-ext4-hybrid.nix', buildDiskoConfig(inputFor('single-ext4', 'hybrid', { disks: ['/dev/disk/by-path/pci-0000:00:05.0'], swapBytes: GIB })));
  assertGolden('disko/mdadm-raid1-uefi.nix', buildDiskoConfig(inputFor('mdadm-raid1', 'uefi')));
  assertGolden('disko/btrfs-raid1-bios.nix', buildDiskoConfig(inputFor('btrfs-raid1', 'bios', { subvolumes: ['srv'] })));
});

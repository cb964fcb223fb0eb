/**
 * The strongest check of a rendered disko.nix: evaluate it with disko's own module system, which
 * type-checks every option and derives the NixOS settings and the format script nixos-anywhere
 * runs. Needs checkouts of disko and nixpkgs' lib (no network in tests):
 *   NB_DISKO_SRC=/path/to/disko NB_NIXPKGS_LIB=/path/to/nixpkgs/lib npm test -- disko-upstream
 * By default the copies in ../shared/nix-src (beside this repository) are used; skipped (with the
 * reason shown) when neither is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BOOT_MODES, LAYOUT_NAMES, buildDiskoConfig, findLayout, type LayoutName } from '../../src/render/disko/index.js';
import { evalExprJson, withNixFiles } from '../helpers/nix.js';
import { REPO_ROOT } from '../helpers/cli.js';

const DISKO = process.env.NB_DISKO_SRC ?? join(REPO_ROOT, '../shared/nix-src/disko');
const NIXLIB = process.env.NB_NIXPKGS_LIB ?? join(REPO_ROOT, '../shared/nix-src/nixpkgs-lib');
const skip = !DISKO || !NIXLIB || !existsSync(join(DISKO, 'lib/default.nix')) || !existsSync(join(NIXLIB, 'default.nix'))
  ? 'set NB_DISKO_SRC (disko checkout) and NB_NIXPKGS_LIB (nixpkgs lib/ directory) to run'
  : false;

const GIB = 1024 ** 3;
const D1 = '/dev/disk/by-id/ata-DISK_ONE';
const D2 = '/dev/disk/by-id/ata-DISK_TWO';
const str = (s: string) => JSON.stringify(s);

interface Derived {
  fileSystems: Record<string, { device: string; fsType: string; options: string[] }>;
  grubDevices: string[];
  luks: Record<string, { device: string; allowDiscards: boolean }>;
  swap: Array<{ device: string; randomEncryption: boolean }>;
  resumeDevice: string | null;
  swraid: boolean;
  create: string;
  mount: string;
}

async function evalWithDisko(text: string): Promise<Derived> {
  return withNixFiles({ 'disko.nix': text }, async (dir) =>
    (await evalExprJson(
      `import ${join(REPO_ROOT, 'test/helpers/disko-eval.nix')} { file = ${join(dir, 'disko.nix')}; diskoSrc = ${str(DISKO!)}; nixpkgsLib = ${str(NIXLIB!)}; }`,
    )) as Derived,
  );
}

/** Substring check that does not dump a 20 kB script into the failure message. */
const assertHas = (script: string, needle: string) => assert.ok(script.includes(needle), `disko's script lacks: ${needle}`);

const ROOT_FS: Record<LayoutName, string> = {
  'single-ext4': 'ext4',
  'single-btrfs': 'btrfs',
  'luks-btrfs': 'btrfs',
  'btrfs-raid1': 'btrfs',
  'data-disk': 'ext4',
  'mdadm-raid1': 'ext4',
};

for (const layout of LAYOUT_NAMES) {
  for (const boot of BOOT_MODES) {
    test(`disko accepts ${layout} × ${boot} and derives the intended NixOS settings`, { skip }, async () => {
      const two = findLayout(layout).disksRequired === 2;
      const d = await evalWithDisko(buildDiskoConfig({ layout, boot, disks: two ? [D1, D2] : [D1], swapBytes: 2 * GIB }));
      assert.equal(d.fileSystems['/']?.fsType, ROOT_FS[layout]);
      // GRUB goes to every disk with an EF02 partition; UEFI-only leaves the list empty.
      const grubDisks = boot === 'uefi' ? [] : layout === 'data-disk' || !two ? [D1] : [D1, D2];
      assert.deepEqual([...d.grubDevices].sort(), grubDisks);
      if (boot !== 'bios') assert.equal(d.fileSystems['/boot']?.fsType, 'vfat');
      else assert.equal(d.fileSystems['/boot'], layout === 'luks-btrfs' ? d.fileSystems['/boot'] : undefined);
      assert.equal(d.swap.length, 1);
      assert.equal(d.swraid, layout === 'mdadm-raid1' || layout === 'btrfs-raid1');
      if (layout === 'luks-btrfs') {
        assert.deepEqual(Object.keys(d.luks), ['crypted']);
        assert.equal(d.luks.crypted!.allowDiscards, true);
        assert.equal(d.fileSystems['/']!.device, '/dev/mapper/crypted');
        assert.equal(d.swap[0]!.randomEncryption, true);
        assertHas(d.create, 'cryptsetup -q luksFormat');
        assertHas(d.create, 'cat /tmp/secret.key');
        if (boot === 'bios') assert.equal(d.fileSystems['/boot']!.fsType, 'ext4');
      }
      if (ROOT_FS[layout] === 'btrfs') {
        for (const [mp, sv] of [['/', '/root'], ['/home', '/home'], ['/nix', '/nix'], ['/var/log', '/log']] as const) {
          assert.deepEqual(d.fileSystems[mp]!.options, ['compress=zstd', 'noatime', `subvol=${sv}`], mp);
        }
      }
      if (layout === 'btrfs-raid1') assertHas(d.create, 'mkfs.btrfs "/dev/disk/by-partlabel/disk-mirror-root" -f -d raid1 -m raid1 /dev/disk/by-partlabel/disk-main-root');
      if (layout === 'mdadm-raid1') {
        assertHas(d.create, 'mdadm --create "/dev/md/root"');
        assertHas(d.create, '--level=1');
        assert.equal(d.fileSystems['/']!.device, '/dev/md/root');
      }
      if (layout === 'data-disk') assert.equal(d.fileSystems['/data']!.device, '/dev/disk/by-partlabel/disk-data-data');
    });
  }
}

test('disko derives the resume device for hibernation', { skip }, async () => {
  const d = await evalWithDisko(buildDiskoConfig({ layout: 'luks-btrfs', boot: 'uefi', disks: [D1], swapBytes: 16 * GIB, hibernate: true }));
  assert.deepEqual(Object.keys(d.luks).sort(), ['crypted', 'cryptswap']);
  assert.equal(d.resumeDevice, '/dev/mapper/cryptswap');
  assert.deepEqual(d.swap, [{ device: '/dev/mapper/cryptswap', randomEncryption: false }]);
});


test('a UEFI laptop read by nixos-facter without the "uefi" field (before 0.4) gets a layout that boots either way, checked by disko', { skip }, async () => {
  const { readFileSync } = await import('node:fs');
  const { facterToReport } = await import('../../src/probe/facter.js');
  const { loadProfiles } = await import('../../src/profiles/load.js');
  const { buildHostPlan } = await import('../../src/render/plan.js');
  const raw = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/facter/amd-minipc-uefi.json'), 'utf8')) as Record<string, unknown>;
  delete raw.uefi; // what an older nixos-facter writes for the same machine
  const report = facterToReport(raw);
  assert.equal(report.firmware, 'unknown');
  const plan = buildHostPlan({ host: 'mini1', report, answers: {}, profiles: await loadProfiles() });
  assert.deepEqual([plan.layout.boot, plan.layout.bootLoader], ['hybrid', 'grub']);
  assert.ok(plan.warnings.some((w) => /does not say whether the machine boots by BIOS or UEFI.*boots either way/.test(w)), plan.warnings.join('\n'));
  const disko = plan.files.find((f) => f.path.endsWith('/disko.nix'))!.content;
  const d = await evalWithDisko(disko);
  assert.equal(d.fileSystems['/boot']?.fsType, 'vfat', 'an ESP for UEFI');
  assert.deepEqual(d.grubDevices, [plan.installDisk.path], 'a BIOS boot partition GRUB installs to');
  const def = plan.files.find((f) => f.path.endsWith('/default.nix'))!.content;
  assert.match(def, /efiSupport = lib\.mkDefault true;/);
  assert.match(def, /efiInstallAsRemovable = lib\.mkDefault true;/);
  // With the field, the same machine is planned as UEFI.
  const uefi = buildHostPlan({ host: 'mini1', report: facterToReport({ ...raw, uefi: { supported: true } }), answers: {}, profiles: await loadProfiles() });
  assert.equal(uefi.layout.boot, 'uefi');
});

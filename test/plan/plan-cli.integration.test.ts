/**
 * `bootstrap plan` end to end through the real CLI: JSON shape, --write into a temporary flake,
 * re-runs (unchanged, skip for an edited default.nix, update with a diff for an edited
 * hardware.nix), the flake.nix hint, one-line usage errors, and real facter reports whose plans
 * parse and evaluate with real Nix.
 */
import '../helpers/fake-nix-path.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';
import { evalFileJson, evalModuleJson, parseNix, withNixFiles } from '../helpers/nix.js';

const REPORT = (name: string) => `${REPO_ROOT}test/fixtures/reports/${name}.json`;
const FACTER = (name: string) => `${REPO_ROOT}test/fixtures/facter/${name}.json`;
const FILES = ['disko.nix', 'hardware.nix', 'default.nix', 'facts.json', 'bootstrap.toml'];
type PlanJson = { host: string; profile: string; layout: string; installDisk: { path: string; byId: string | null; sizeBytes: number }; initrdModules: string[]; kernelModules: string[]; files: Array<{ path: string; action: string; content: string; diff?: string }> };

test('plan --report --json prints the plan document', async () => {
  await withTempDir(async (flake) => {
    const r = await runCli(['plan', 'web1', '--report', REPORT('hetzner-cloud-x86'), '--flake', flake, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as PlanJson;
    assert.equal(j.host, 'web1');
    assert.equal(j.profile, 'hetzner-cloud-x86');
    assert.equal(j.layout, 'single-ext4');
    assert.deepEqual(j.installDisk.path, '/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_12345678');
    assert.equal(j.installDisk.sizeBytes, 40 * 1024 ** 3);
    assert.ok(j.initrdModules.includes('virtio_scsi'));
    assert.deepEqual(j.kernelModules, ['kvm-amd']);
    assert.deepEqual(j.files.map((f) => [f.path, f.action]), FILES.map((f) => [`hosts/web1/${f}`, 'create']));
    assert.match(j.files[0]!.content, /device = "\/dev\/disk\/by-id\/scsi-0QEMU_QEMU_HARDDISK_12345678";/);
  });
});

test('plan --write: create, then unchanged, then skip for default.nix and update with a diff for hardware.nix', async () => {
  await withTempDir(async (flake) => {
    await writeFile(join(flake, 'flake.nix'), '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  outputs = { nixpkgs, ... }: { };\n}\n');
    const args = ['plan', 'web1', '--report', REPORT('ovh-vps'), '--flake', flake];
    const first = await runCli([...args, '--write']);
    assert.equal(first.code, 0, first.stderr);
    for (const f of FILES) assert.ok((await readFile(join(flake, 'hosts/web1', f), 'utf8')).length > 0, f);
    assert.match(first.stderr, /flake\.nix does not pick up hosts\/web1 yet/);
    assert.match(first.stderr, /^ {2}disko\.url = "github:nix-community\/disko";$/m);
    assert.match(first.stderr, /^ {6}\.\/hosts\/web1$/m);
    assert.equal(await readFile(join(flake, 'flake.nix'), 'utf8'), '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  outputs = { nixpkgs, ... }: { };\n}\n', 'flake.nix is never edited');

    const second = await runCli([...args, '--write', '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual((JSON.parse(second.stdout) as PlanJson).files.map((f) => f.action), ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    assert.match(second.stderr, /nothing to write/);

    const hw = join(flake, 'hosts/web1/hardware.nix');
    const def = join(flake, 'hosts/web1/default.nix');
    const original = await readFile(hw, 'utf8');
    await writeFile(def, (await readFile(def, 'utf8')).replace('system.stateVersion', 'time.timeZone = "UTC";\n  system.stateVersion'));
    await writeFile(hw, original.replace('boot.extraModulePackages = [ ];\n', 'boot.extraModulePackages = [ ];\n  boot.kernelModules = [ "mine" ];\n'));
    const third = await runCli(args);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /^ {2}unchanged {2}hosts\/web1\/disko\.nix$/m);
    assert.match(third.stdout, /^ {2}update {5}hosts\/web1\/hardware\.nix$/m);
    assert.match(third.stdout, /^ {6}-  boot\.kernelModules = \[ "mine" \];$/m);
    assert.match(third.stdout, /^ {2}skip {7}hosts\/web1\/default\.nix {2}\(user-owned/m);

    const fourth = await runCli([...args, '--write', '--json']);
    const j = JSON.parse(fourth.stdout) as PlanJson;
    assert.deepEqual(j.files.map((f) => f.action), ['unchanged', 'update', 'skip', 'unchanged', 'unchanged']);
    assert.match(j.files[1]!.diff!, /^@@ .* @@$/m);
    assert.equal(await readFile(hw, 'utf8'), original, '--write restores the tool-owned file');
    assert.match(await readFile(def, 'utf8'), /time\.timeZone = "UTC";/, 'the user-owned file keeps its edit');
  });
});

test('no flake.nix hint when flake.nix already reads the hosts directory', async () => {
  await withTempDir(async (flake) => {
    await writeFile(join(flake, 'flake.nix'), '{ outputs = { nixpkgs, disko, ... }: { nixosConfigurations = builtins.mapAttrs (n: _: n) (builtins.readDir ./hosts); }; }\n');
    const r = await runCli(['plan', 'web1', '--report', REPORT('ovh-vps'), '--flake', flake]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /does not pick up/);
  });
});

const BAD: Array<[string, string[], RegExp]> = [
  ['unknown layout', ['--report', REPORT('ovh-vps'), '--layout', 'zfs'], /^error: unknown layout "zfs"; valid layouts: single-ext4, single-btrfs, luks-btrfs, btrfs-raid1, data-disk, mdadm-raid1$/m],
  ['unknown profile', ['--report', REPORT('ovh-vps'), '--profile', 'aws'], /^error: unknown profile "aws"; valid profiles: amd-laptop, dell-optiplex, .*ovh-vps.*$/m],
  ['--disk not in the report', ['--report', REPORT('hetzner-dedicated-2nvme'), '--layout', 'single-ext4', '--disk', 'sdz'], /^error: --disk sdz is not a disk in the report; valid disks: nvme0n1 .*; nvme1n1 .*$/m],
  ['two-disk layout on one disk', ['--report', REPORT('ovh-vps'), '--layout', 'mdadm-raid1'], /^error: layout mdadm-raid1 needs 2 disks, but 1 usable disk was given; layouts that fit: single-ext4, .*$/m],
  ['no usable disk', ['--report', REPORT('no-usable-disk')], /^error: no disk to install on \(excluded: loop0: loop device, read-only; mmcblk0: removable; sda: removable, on USB; zram0: zram swap device\)$/m],
  ['several disks fit', ['--report', REPORT('hetzner-dedicated-2nvme'), '--layout', 'single-ext4'], /^error: 2 disks fit; choose with --disk: nvme0n1 .*$/m],
  ['bad host name', ['--report', REPORT('ovh-vps')], /^error: "Web_1" is not a valid host name/m],
  ['no report source', [], /^error: no hardware report: give --target, --report or --facter$/m],
  ['two report sources', ['--report', 'a.json', '--facter', 'b.json'], /^error: give only one of --report, --facter$/m],
  ['missing report file', ['--report', '/nonexistent/r.json'], /^error: cannot read --report \/nonexistent\/r\.json: no such file$/m],
];

for (const [what, args, message] of BAD) {
  test(`bad input exits 2 with one line: ${what}`, async () => {
    await withTempDir(async (flake) => {
      const host = what === 'bad host name' ? 'Web_1' : 'web1';
      const r = await runCli(['plan', host, ...args, '--flake', flake]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    });
  });
}

// The "done when": real nixos-facter reports give plans whose files parse and evaluate.
const FACTER_CASES: Array<[string, string[]]> = [
  ['hetzner-cloud', []],
  ['hetzner-dedicated-legacy', ['--disk', 'nvme0n1']],
  ['amd-minipc-uefi', []],
  ['qemu-report-v2', []],
];
for (const [name, extra] of FACTER_CASES) {
  test(`plan --facter ${name}: files parse and evaluate with real Nix`, async () => {
    await withTempDir(async (flake) => {
      const r = await runCli(['plan', 'web1', '--facter', FACTER(name), '--flake', flake, '--json', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as PlanJson;
      const content = (f: string) => j.files.find((x) => x.path === `hosts/web1/${f}`)!.content;
      for (const f of ['disko.nix', 'hardware.nix', 'default.nix']) await parseNix(content(f));
      const disko = (await withNixFiles({ 'disko.nix': content('disko.nix') }, (d) => evalFileJson(join(d, 'disko.nix')))) as { disko: { devices: { disk: { main: { device: string } } } } };
      assert.equal(disko.disko.devices.disk.main.device, j.installDisk.path);
      const hw = (await evalModuleJson(content('hardware.nix'))) as { boot: { initrd: { availableKernelModules: string[] } } };
      assert.deepEqual(hw.boot.initrd.availableKernelModules, j.initrdModules);
    });
  });
}

test('plan --write: a new default.nix starts at the release flake.lock pins (25.11), not a fixed one', async () => {
  await withTempDir(async (flake) => {
    await writeFile(join(flake, 'flake.nix'), '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11"; outputs = _: { }; }\n');
    await writeFile(join(flake, 'flake.lock'), JSON.stringify({ nodes: { nixpkgs: { locked: { owner: 'NixOS', repo: 'nixpkgs', rev: '0'.repeat(40), type: 'github' }, original: { owner: 'NixOS', ref: 'nixos-25.11', repo: 'nixpkgs', type: 'github' } }, root: { inputs: { nixpkgs: 'nixpkgs' } } }, root: 'root', version: 7 }));
    const r = await runCli(['plan', 'web1', '--report', REPORT('ovh-vps'), '--flake', flake, '--write']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await readFile(join(flake, 'hosts/web1/default.nix'), 'utf8'), /system\.stateVersion = lib\.mkDefault "25\.11";/);
  });
});

test('[hosts.NAME] dir: a host whose folder is not named after it (hosts/servers/hetzner-cloud for hetzner-vps)', async () => {
  await withTempDir(async (flake) => {
    await writeFile(join(flake, 'flake.nix'), '{ outputs = { nixpkgs, ... }: { nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${n} ]; }) (builtins.readDir ./hosts); }; }\n');
    await writeFile(join(flake, 'bootstrap.toml'), '[hosts.hetzner-vps]\ndir = "hosts/servers/hetzner-cloud"\n');
    const args = ['plan', 'hetzner-vps', '--report', REPORT('ovh-vps'), '--flake', flake];
    const first = await runCli([...args, '--write']);
    assert.equal(first.code, 0, first.stderr);
    for (const f of FILES) assert.ok((await readFile(join(flake, 'hosts/servers/hetzner-cloud', f), 'utf8')).length > 0, f);
    await assert.rejects(readFile(join(flake, 'hosts/hetzner-vps/default.nix')), /ENOENT/);
    // A readDir of hosts/ names the folder "servers", not the host: the hint names the mapped folder.
    assert.match(first.stderr, /flake\.nix does not pick up hosts\/servers\/hetzner-cloud yet/);
    assert.match(first.stderr, /^ {6}\.\/hosts\/servers\/hetzner-cloud$/m);
    // The manifest is found there again: a second plan is unchanged.
    const second = await runCli([...args, '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.ok((JSON.parse(second.stdout) as { files: { action: string }[] }).files.every((f) => f.action === 'unchanged' || f.action === 'skip'), second.stdout);
    // A mapping must stay inside the flake and name a valid host.
    await writeFile(join(flake, 'bootstrap.toml'), '[hosts.hetzner-vps]\ndir = "../elsewhere"\n');
    const bad = await runCli([...args]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /hosts\.hetzner-vps\.dir.*relative path inside the flake/);
  });
});

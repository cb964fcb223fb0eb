import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { loadReport } from '../../test/helpers/reports.js';
import { PLAN_SCENARIOS } from '../../test/helpers/plan-scenarios.js';
import { REPO_ROOT } from '../../test/helpers/cli.js';
import { isBootstrapError } from '../errors.js';
import { parseManifest } from '../manifest/manifest.js';
import { loadProfiles } from '../profiles/load.js';
import { buildHostPlan, type PlanAnswers } from './plan.js';

const profiles = await loadProfiles();
const GOLDEN = `${REPO_ROOT}test/fixtures/plans/`;
const plan = (report: string, answers: PlanAnswers = {}, host = 'web1') => buildHostPlan({ host, report: loadReport(report), answers, profiles });

test('the same input gives byte-identical plans', () => {
  for (const s of PLAN_SCENARIOS) {
    const a = JSON.stringify(buildHostPlan({ host: s.host, report: loadReport(s.report), answers: s.answers, profiles }));
    const b = JSON.stringify(buildHostPlan({ host: s.host, report: loadReport(s.report), answers: structuredClone(s.answers), profiles: [...profiles].reverse() }));
    assert.equal(a, b, s.name);
  }
});

// Golden files: one directory per scenario with the rendered files and a summary. A change in
// output shows up as a diff to review; refresh with UPDATE_GOLDEN=1 npm test -- src/render/plan.
for (const s of PLAN_SCENARIOS) {
  test(`golden: ${s.name}`, () => {
    const p = buildHostPlan({ host: s.host, report: loadReport(s.report), answers: s.answers, profiles });
    const summary = { ...p, files: p.files.map((f) => ({ path: f.path, owner: f.owner })) };
    const actual: Record<string, string> = { 'plan.json': JSON.stringify(summary, null, 2) + '\n' };
    for (const f of p.files) if (!f.path.endsWith('facts.json')) actual[f.path.split('/').pop()!] = f.content;
    const dir = `${GOLDEN}${s.name}/`;
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(dir, { recursive: true });
      for (const [name, text] of Object.entries(actual)) writeFileSync(dir + name, text);
    }
    for (const [name, text] of Object.entries(actual)) {
      assert.ok(existsSync(dir + name), `missing golden ${dir}${name}: run UPDATE_GOLDEN=1 npm test -- src/render/plan`);
      assert.equal(text, readFileSync(dir + name, 'utf8'), `${s.name}/${name} differs from its golden file`);
    }
  });
}

test('files: paths under the host directory, owners, facts.json is the report', () => {
  const p = buildHostPlan({ host: 'web1', report: loadReport('ovh-vps'), answers: {}, profiles, hostDir: 'machines/web1' });
  assert.deepEqual(p.files.map((f) => [f.path, f.owner]), [
    ['machines/web1/disko.nix', 'tool'],
    ['machines/web1/hardware.nix', 'tool'],
    ['machines/web1/default.nix', 'user'],
    ['machines/web1/facts.json', 'tool'],
    ['machines/web1/bootstrap.toml', 'tool'],
  ]);
  assert.deepEqual(JSON.parse(p.files[3]!.content), loadReport('ovh-vps'));
  const m = parseManifest(p.files[4]!.content, 'bootstrap.toml');
  assert.equal(m.installDisk.path, '/dev/disk/by-path/pci-0000:00:04.0');
  assert.equal(m.installDisk.byId, undefined);
  assert.equal(m.profile, 'ovh-vps');
});

test('the manifest records target, layout parameters and both disks', () => {
  const p = plan('hetzner-dedicated-2nvme', { target: 'root@192.0.2.10', layout: 'btrfs-raid1', subvolumes: ['containers'] });
  const m = parseManifest(p.files[4]!.content, 'bootstrap.toml');
  assert.equal(m.target, 'root@192.0.2.10');
  assert.deepEqual(m.layout, { name: 'btrfs-raid1', swapBytes: 8 * 1024 ** 3, hibernate: false, encrypt: false, subvolumes: ['containers'] });
  assert.equal(m.installDisk.serial, 'S675NX0T123456');
  assert.equal(m.secondDisk?.serial, 'S675NX0T654321');
});

test('a re-plan keeps the manifest sections other commands filled', () => {
  const first = parseManifest(plan('ovh-vps', { target: 'root@51.75.0.10' }).files[4]!.content, 'x');
  const existing = { ...first, secrets: { sshHostKey: 'local:hosts/web1/ssh_host_ed25519_key' }, install: { identity: 'copy-target-keys' as const } };
  const again = buildHostPlan({ host: 'web1', report: loadReport('ovh-vps'), answers: {}, profiles, existingManifest: existing });
  const m = parseManifest(again.files[4]!.content, 'x');
  assert.equal(m.target, 'root@51.75.0.10');
  assert.deepEqual(m.secrets, { sshHostKey: 'local:hosts/web1/ssh_host_ed25519_key' });
  assert.deepEqual(m.install, { identity: 'copy-target-keys' });
});

test('profile contributions: Hetzner IPv6 from the probe, PRIME bus ids in decimal', () => {
  const hz = plan('hetzner-cloud-x86').files[1]!.content;
  assert.match(hz, /systemd\.network\.networks\."10-uplink"\.address = \[ "2a01:4f8:c012:abcd::1\/64" \];/);
  assert.match(hz, /MACAddress = "96:00:03:2a:bc:01";/);
  assert.match(hz, /Gateway = "fe80::1";/);
  const g14 = plan('amd-nvidia-laptop').files[1]!.content;
  assert.match(g14, /hardware\.nvidia\.prime\.amdgpuBusId = "PCI:101:0:0";/);
  assert.match(g14, /hardware\.nvidia\.prime\.nvidiaBusId = "PCI:1:0:0";/);
  const desk = plan('desktop-nvidia');
  assert.match(desk.files[1]!.content, /services\.xserver\.videoDrivers = \[ "nvidia" \];/);
  assert.doesNotMatch(desk.files[1]!.content, /prime/);
});

test('layout choice: profile preference, fallback when the disks do not fit, --encrypt', () => {
  assert.equal(plan('hetzner-dedicated-2nvme').layout.name, 'mdadm-raid1');
  const oneDisk = { ...loadReport('hetzner-dedicated-2nvme') };
  oneDisk.disks = oneDisk.disks.slice(0, 1);
  assert.equal(buildHostPlan({ host: 'db1', report: oneDisk, answers: {}, profiles }).layout.name, 'single-ext4');
  assert.equal(plan('generic-bare-metal', { encrypt: true }).layout.name, 'luks-btrfs');
  assert.equal(plan('ovh-vps', { layout: 'ext4' }).layout.name, 'single-ext4', 'aliases work');
});

const usage = (code: string, re: RegExp) => (e: unknown) => isBootstrapError(e) && e.kind === 'usage' && e.code === code && re.test(e.message) && !e.message.includes('\n');

test('bad input: one-line usage errors naming the valid choices', () => {
  assert.throws(() => plan('ovh-vps', { layout: 'zfs' }), usage('unknown-layout', /unknown layout "zfs"; valid layouts: single-ext4, single-btrfs, luks-btrfs, btrfs-raid1, data-disk, mdadm-raid1/));
  assert.throws(() => plan('ovh-vps', { profile: 'nope' }), usage('unknown-profile', /valid profiles: amd-laptop, .*ovh-vps/));
  assert.throws(() => plan('ovh-vps', { disk: 'sdb' }), usage('unknown-disk', /--disk sdb is not a disk in the report; valid disks: vda/));
  assert.throws(() => plan('ovh-vps', { layout: 'mdadm-raid1' }), usage('layout-needs-two-disks', /needs 2 disks, but 1 usable disk was given; layouts that fit: single-ext4/));
  assert.throws(() => plan('ovh-vps', { layout: 'single-ext4', encrypt: true }), usage('layout-not-encrypted', /encrypted layouts: luks-btrfs/));
  assert.throws(() => plan('ovh-vps', { subvolumes: ['dev'] }), usage('subvolumes-need-btrfs', /layouts with subvolumes: single-btrfs, luks-btrfs, btrfs-raid1/));
  assert.throws(() => plan('ovh-vps', {}, 'Web_1'), usage('bad-host-name', /"Web_1" is not a valid host name/));
  assert.throws(() => plan('ovh-vps', {}, '-web'), usage('bad-host-name', /not a valid host name/));
});

test('no usable disk: the disk error wins over any layout error', () => {
  assert.throws(() => plan('no-usable-disk', { layout: 'mdadm-raid1' }), (e) => isBootstrapError(e) && e.code === 'no-usable-disk');
});

test('a device path with shell or escape characters from the target never reaches disko.nix', async () => {
  const { assertSafeDevicePath } = await import('./disko/build.js');
  for (const ok of ['/dev/vda', '/dev/disk/by-id/nvme-Samsung_SSD_980_S64D:1', '/dev/disk/by-path/pci-0000:00:04.0', '/dev/disk/by-id/usb-SanDisk+Ultra@x']) assertSafeDevicePath(ok);
  for (const bad of ['/dev/sda;reboot', '/dev/$(id)', '/dev/a b', '/dev/x\x1b[2J', '/dev/{a,b}', '/dev/a|b', '/dev/a&', '/dev/<a>', 'sda', '/dev/../etc/passwd', '/dev/']) {
    assert.throws(() => assertSafeDevicePath(bad), (e: unknown) => (e as { code?: string }).code === 'bad-device-path', JSON.stringify(bad));
  }
});

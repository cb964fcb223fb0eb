/**
 * Every file of every plan scenario checked by real Nix (Debian's nix-instantiate, dummy store):
 * all .nix files parse; disko.nix and hardware.nix evaluate with --strict, and the evaluated
 * values are the plan's (devices, modules, boot loader, profile settings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProfiles } from '../../src/profiles/load.js';
import { buildHostPlan } from '../../src/render/plan.js';
import { evalExprJson, evalFileJson, evalModuleJson, parseNix, withNixFiles } from '../helpers/nix.js';
import { PLAN_SCENARIOS } from '../helpers/plan-scenarios.js';
import { loadReport } from '../helpers/reports.js';

const profiles = await loadProfiles();
type Attrs = Record<string, any>;

for (const s of PLAN_SCENARIOS) {
  test(`real Nix: ${s.name}`, async () => {
    const plan = buildHostPlan({ host: s.host, report: loadReport(s.report), answers: s.answers, profiles });
    const file = (name: string) => plan.files.find((f) => f.path.endsWith(`/${name}`))!.content;
    for (const name of ['disko.nix', 'hardware.nix', 'default.nix']) await parseNix(file(name));
    assert.deepEqual(JSON.parse(file('facts.json')), loadReport(s.report));

    await withNixFiles({ 'disko.nix': file('disko.nix'), 'hardware.nix': file('hardware.nix'), 'default.nix': file('default.nix') }, async (dir) => {
      const disko = (await evalFileJson(join(dir, 'disko.nix'))) as Attrs;
      const disks = disko.disko.devices.disk as Attrs;
      assert.equal(disks.main.device, plan.installDisk.path);
      if (plan.secondDisk) assert.equal(Object.values(disks).find((d: Attrs) => d !== disks.main).device, plan.secondDisk.path);
      else assert.deepEqual(Object.keys(disks), ['main']);
      const parts = disks.main.content.partitions as Attrs;
      if (plan.layout.boot !== 'bios') assert.equal(parts.ESP.type, 'EF00', 'UEFI and hybrid boot need an ESP');
      if (plan.layout.boot !== 'uefi') assert.equal(parts.boot.type, 'EF02', 'BIOS and hybrid boot need a BIOS boot partition');
      if (plan.layout.encrypted) assert.equal(parts.luks.content.passwordFile, '/tmp/secret.key');

      const hw = (await evalModuleJson(file('hardware.nix'))) as Attrs;
      assert.deepEqual(hw.boot.initrd.availableKernelModules, plan.initrdModules);
      assert.deepEqual(hw.boot.kernelModules, plan.kernelModules);
      assert.equal(hw.nixpkgs.hostPlatform, loadReport(s.report).arch);
      if (plan.kernelParams.length) assert.deepEqual(hw.boot.kernelParams, plan.kernelParams);
      if (plan.profile.name === 'nvidia-hybrid-laptop') assert.equal(hw.hardware.nvidia.prime.nvidiaBusId, 'PCI:1:0:0');
      if (plan.profile.name.startsWith('hetzner')) assert.deepEqual(hw.systemd.network.networks['10-uplink'].routes, [{ Gateway: 'fe80::1', GatewayOnLink: true }]);

      // Evaluated in place, so its imports (./disko.nix, ./hardware.nix) resolve to the files beside it.
      const def = (await evalExprJson(`(import ${join(dir, 'default.nix')}) { config = { }; lib = { mkDefault = x: x; }; pkgs = { }; }`)) as Attrs;
      assert.equal(def.networking.hostName, s.host);
      assert.equal(def.imports.length, 2);
      const loader = def.boot.loader;
      if (plan.layout.bootLoader === 'systemd-boot') assert.equal(loader['systemd-boot'].enable, true);
      else assert.equal(loader.grub.enable, true);
    });
  });
}

test('real Nix: login keys go into a new default.nix as root\'s authorized keys, and the plan names them', async () => {
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { withTempDir } = await import('../helpers/tmp.js');
  const { buildPlanText } = await import('../../src/render/plan-print.js');
  await withTempDir(async (tmp) => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'me@laptop', '-f', join(tmp, 'k')]);
    const line = readFileSync(join(tmp, 'k.pub'), 'utf8').trim();
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(tmp, 'k.pub')]).toString().split(' ')[1]!;
    const s = PLAN_SCENARIOS[0]!;
    const plan = buildHostPlan({ host: s.host, report: loadReport(s.report), answers: { ...s.answers, loginKeys: [line], loginFrom: '-i k.pub' }, profiles });
    const file = (name: string) => plan.files.find((f) => f.path.endsWith(`/${name}`))!.content;
    await withNixFiles({ 'disko.nix': file('disko.nix'), 'hardware.nix': file('hardware.nix'), 'default.nix': file('default.nix') }, async (dir) => {
      const def = (await evalExprJson(`(import ${join(dir, 'default.nix')}) { config = { }; lib = { mkDefault = x: x; }; pkgs = { }; }`)) as Attrs;
      assert.deepEqual(def.users.users.root.openssh.authorizedKeys.keys, [line]);
    });
    assert.doesNotMatch(file('default.nix'), /Put your public key here/);
    assert.match(buildPlanText(plan, []), new RegExp(`login +root with ${fp.replace(/[+/]/g, '\\$&')} \\(from -i k\\.pub\\)`));
    const bare = buildHostPlan({ host: s.host, report: loadReport(s.report), answers: s.answers, profiles });
    assert.match(bare.files.find((f) => f.path.endsWith('/default.nix'))!.content, /Put your public key here/);
  });
});

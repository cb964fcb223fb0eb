import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadReport } from '../../test/helpers/reports.js';
import { loadProfiles, parseProfile } from './load.js';
import { buildGpuKinds, chooseProfile, rankProfiles } from './match.js';
import { isBootstrapError } from '../errors.js';

const profiles = await loadProfiles();

const EXPECTED: Array<[scenario: string, profile: string, reason: string]> = [
  ['hetzner-cloud-x86', 'hetzner-cloud-x86', 'DMI vendor "Hetzner" contains "Hetzner"'],
  ['hetzner-cloud-arm64', 'hetzner-cloud-arm64', 'architecture is aarch64-linux'],
  ['hetzner-dedicated-2nvme', 'hetzner-dedicated', 'default IPv6 gateway is fe80::1 on eth0'],
  ['ovh-vps', 'ovh-vps', 'DMI product "OpenStack Nova" contains "OpenStack Nova"'],
  ['netcup-vps', 'netcup-vps', 'DMI vendor "netcup" contains "netcup"'],
  ['kvm-droplet-no-links', 'generic-kvm-vps', 'virtualization is kvm'],
  ['proxmox-guest', 'proxmox-guest', 'DMI product "Standard PC (Q35 + ICH9, 2009)" matches /^Standard PC/'],
  ['amd-laptop', 'amd-laptop', 'CPU vendor is amd'],
  ['intel-laptop', 'intel-laptop', 'CPU vendor is intel'],
  ['intel-nvidia-laptop', 'nvidia-hybrid-laptop', 'hybrid graphics: intel + nvidia'],
  ['amd-nvidia-laptop', 'nvidia-hybrid-laptop', 'hybrid graphics: amd + nvidia'],
  ['desktop-nvidia', 'desktop-nvidia', 'GPU vendors include nvidia'],
  ['dell-optiplex', 'dell-optiplex', 'DMI product "OptiPlex 7080" contains "OptiPlex"'],
  ['generic-bare-metal', 'generic-bare-metal', 'virtualization is none'],
];

for (const [scenario, name, reason] of EXPECTED) {
  test(`profile for ${scenario} is ${name}`, () => {
    const m = chooseProfile(loadReport(scenario), profiles);
    assert.equal(m.profile.name, name);
    assert.ok(m.reasons.includes(reason), `reasons: ${m.reasons.join(' | ')}`);
    assert.equal(m.reasons.length, Object.keys(m.profile.match).length, 'one reason per rule');
  });
}

test('the winner outscores the generic profiles it also matches', () => {
  const ranked = rankProfiles(loadReport('intel-nvidia-laptop'), profiles).map((m) => m.profile.name);
  assert.deepEqual(ranked.slice(0, 1), ['nvidia-hybrid-laptop']);
  assert.ok(ranked.includes('intel-laptop') && ranked.includes('generic-uefi-laptop') && ranked.includes('generic-bare-metal'));
  assert.ok(!ranked.includes('desktop-nvidia'), 'a laptop has a battery');
});

test('equal scores are broken by priority, then name', () => {
  const mk = (name: string, priority = 0) =>
    parseProfile(`name = "${name}"\ndescription = "x"\npriority = ${priority}\n[match]\nvirtualization = ["none"]\n`, `${name}.toml`);
  const r = loadReport('generic-bare-metal');
  assert.equal(rankProfiles(r, [mk('b'), mk('a')])[0]!.profile.name, 'a');
  assert.equal(rankProfiles(r, [mk('b', 1), mk('a')])[0]!.profile.name, 'b');
});

test('GPU kinds come from PCI class 03xx only', () => {
  assert.deepEqual(buildGpuKinds(loadReport('amd-nvidia-laptop')), ['amd', 'nvidia']);
  assert.deepEqual(buildGpuKinds(loadReport('hetzner-cloud-x86')), [], 'the QEMU VGA is not a real GPU vendor');
});

test('--profile forces a profile and keeps the rules that hold as reasons', () => {
  const m = chooseProfile(loadReport('kvm-droplet-no-links'), profiles, 'hetzner-cloud-x86');
  assert.equal(m.profile.name, 'hetzner-cloud-x86');
  assert.equal(m.forced, true);
  assert.deepEqual(m.reasons, ['chosen explicitly (--profile or the wizard)', 'virtualization is kvm', 'architecture is x86_64-linux', 'firmware is BIOS']);
});

test('an unknown --profile is a usage error listing the valid names', () => {
  assert.throws(
    () => chooseProfile(loadReport('ovh-vps'), profiles, 'hetzner'),
    (e) => isBootstrapError(e) && e.kind === 'usage' && /unknown profile "hetzner"; valid profiles: amd-laptop, .*hetzner-cloud-x86/.test(e.message),
  );
});

test('no matching profile is a usage error naming --profile', () => {
  const r = { ...loadReport('ovh-vps'), virtualization: 'docker' };
  assert.throws(() => chooseProfile(r, profiles), (e) => isBootstrapError(e) && e.code === 'no-profile' && /--profile/.test(e.hint ?? ''));
});

test('a profile file with an unknown key names the key path', () => {
  assert.throws(
    () => parseProfile('name = "x"\ndescription = "d"\n[match]\nvendor = "a"\n', 'x.toml'),
    (e) => isBootstrapError(e) && /x\.toml: unknown key match\.vendor/.test(e.message),
  );
  assert.throws(() => parseProfile('name = "y"\ndescription = "d"\n[match]\n', 'x.toml'), /does not match the file name/);
});

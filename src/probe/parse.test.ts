import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isBootstrapError } from '../errors.js';
import { parseProbeOutput } from './parse.js';
import { HardwareReportSchema } from './report.js';
import { checkScenario, SCENARIOS } from '../../test/probe/scenario-expectations.js';

const fixture = (p: string) => readFileSync(new URL(`../../test/fixtures/${p}`, import.meta.url), 'utf8');
const scenarioOutput = (name: string) => fixture(`scenarios/${name}/probe-output.txt`);

/** Replace one section's body (keeping its header) in captured probe output. */
function replaceSection(out: string, name: string, body: string): string {
  const re = new RegExp(`(@@nb-probe section ${name}\\n)[\\s\\S]*?(?=@@nb-probe )`);
  assert.match(out, re);
  return out.replace(re, `$1${body}`);
}

describe('parseProbeOutput on captured scenario output', () => {
  for (const [name, expected] of Object.entries(SCENARIOS)) {
    it(name, () => checkScenario(parseProbeOutput(scenarioOutput(name)), expected));
  }

  it('this kind of machine (a Debian container: no DMI, no EFI, builtin drivers)', () => {
    const r = parseProbeOutput(fixture('probe-output/debian-container.txt'));
    assert.equal(r.arch, 'x86_64-linux');
    assert.equal(r.firmware, 'bios');
    assert.equal(r.virtualization, 'docker');
    assert.deepEqual(r.dmi, { vendor: null, product: null, chassis: null });
    assert.deepEqual(r.disks.map((d) => [d.name, d.sizeBytes, d.transport]), [['vda', 274877906944, 'virtio']]);
    assert.deepEqual(r.nics.map((n) => n.name), ['eth0']); // ifb0/ifb1 have no device and no address
    assert.ok(r.warnings.includes('dmi: missing /sys/class/dmi/id'));
  });

  it('ignores what the login shell prints before the header', () => {
    const r = parseProbeOutput(`Welcome!\n@@nb-probe section fake\n${scenarioOutput('ovh-vps')}`);
    assert.equal(r.hostname, 'vps-5f3a2b1c');
  });
});

describe('parseProbeOutput on degraded output', () => {
  const base = scenarioOutput('dell-optiplex-sata');

  it('missing lsblk: disks come from /sys/block, with a warning', () => {
    const r = parseProbeOutput(replaceSection(base, 'lsblk', '!missing lsblk\n'));
    assert.deepEqual(r.disks.map((d) => [d.name, d.sizeBytes, d.transport, d.model, d.driverModules]), [['sda', 500118192 * 512, 'sata', 'Samsung SSD 860 EVO 250GB', ['sd_mod', 'ahci']]]);
    assert.deepEqual(r.disks[0]!.partitions.map((p) => p.name), ['sda1', 'sda2']);
    assert.ok(r.warnings.includes('lsblk: missing lsblk'));
    assert.ok(r.warnings.some((w) => w.startsWith('disks: read from /sys/block')));
  });

  it('lsblk garbage: falls back to /sys/block', () => {
    const r = parseProbeOutput(replaceSection(base, 'lsblk', '{"blockdevices": [ {"name": "sda", \n'));
    assert.equal(r.disks[0]!.name, 'sda');
    assert.ok(r.warnings.some((w) => w.includes('not JSON')));
  });

  it('truncated output: earlier facts stay, the rest degrades with warnings', () => {
    const cut = base.slice(0, base.indexOf('@@nb-probe section pci') + 30);
    const r = HardwareReportSchema.parse(parseProbeOutput(cut));
    assert.equal(r.disks[0]!.name, 'sda');
    assert.deepEqual(r.nics, []);
    assert.ok(r.warnings.some((w) => w.includes('stopped before its end marker')));
    assert.ok(r.warnings.includes('output: section "net" is missing'));
  });

  it('garbage inside sections: warnings, not exceptions', () => {
    let out = replaceSection(base, 'cpu', 'lorem ipsum\n\u0000\u0001\n');
    out = replaceSection(out, 'memory', 'MemTotal: lots\n');
    out = replaceSection(out, 'pci', '- not-a-bus-id\nclass=zz\n');
    out = replaceSection(out, 'firmware', 'efi=maybe\n');
    const r = parseProbeOutput(out);
    assert.equal(r.cpu.vendor, 'unknown');
    assert.equal(r.memoryBytes, 0);
    assert.deepEqual(r.pci, []);
    assert.equal(r.firmware, 'unknown');
    for (const w of ['cpu:', 'memory:', 'pci:', 'firmware:']) assert.ok(r.warnings.some((x) => x.startsWith(w)), w);
  });

  it('without systemd-detect-virt, DMI names the hypervisor', () => {
    const hetzner = scenarioOutput('hetzner-cloud-bios');
    const r = parseProbeOutput(replaceSection(hetzner, 'virt', '!missing systemd-detect-virt\nhypervisor_flag=1\n'));
    assert.equal(r.virtualization, 'kvm');
    assert.ok(r.warnings.some((w) => w.includes('inferred from DMI')));
  });

  it('an aarch64 target', () => {
    let out = replaceSection(base, 'system', 'machine=aarch64\nkernel=6.1.0-27-arm64\nos=Linux\nhostname=arm\n');
    out = replaceSection(out, 'cpu', 'processors=4\nprocessor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\n');
    const r = parseProbeOutput(out);
    assert.equal(r.arch, 'aarch64-linux');
    assert.deepEqual({ vendor: r.cpu.vendor, model: r.cpu.model, cores: r.cpu.cores }, { vendor: 'arm', model: 'ARM Neoverse-N1', cores: 4 });
    assert.ok(r.cpu.flags.includes('asimd'));
  });

  it('no probe header at all is a one-line failure', () => {
    assert.throws(() => parseProbeOutput('fish: Unknown command: sh\n'), (e) => isBootstrapError(e) && e.code === 'probe-output' && !e.message.includes('\n'));
  });

  it('a non-Linux or unsupported architecture target is refused', () => {
    assert.throws(() => parseProbeOutput(replaceSection(base, 'system', 'machine=amd64\nos=FreeBSD\n')), (e) => isBootstrapError(e) && e.code === 'probe-unsupported' && /FreeBSD/.test(e.message));
    assert.throws(() => parseProbeOutput(replaceSection(base, 'system', 'machine=riscv64\nos=Linux\n')), (e) => isBootstrapError(e) && e.code === 'probe-unsupported' && /riscv64/.test(e.message));
  });

  it('a facter section is kept and fills what the probe lacks', () => {
    const facter = fixture('facter/hetzner-cloud.json');
    let out = replaceSection(base, 'dmi', '!missing /sys/class/dmi/id\n');
    out = out.replace('@@nb-probe end', `@@nb-probe section facter\n${facter}\n@@nb-probe end`);
    const r = parseProbeOutput(out);
    assert.equal((r.facter as { system: string }).system, 'x86_64-linux');
    assert.deepEqual(r.dmi, { vendor: 'Hetzner', product: 'vServer', chassis: 'other' });
    assert.equal(r.disks[0]!.sizeBytes, 500118192 * 512, 'probe facts stay the probe\'s');
  });

  it('a broken facter section is a warning', () => {
    const out = base.replace('@@nb-probe end', '@@nb-probe section facter\n{"version": 1, "hardw\n@@nb-probe end');
    const r = parseProbeOutput(out);
    assert.equal(r.facter, undefined);
    assert.ok(r.warnings.some((w) => w.startsWith('facter: its output was not used') && w.includes('truncated')));
  });
});

it('reach: the IPv4 default route as the probe read it; unknown (absent) without the section', async () => {
  const { parseReach } = await import('./parse-devices.js');
  assert.deepEqual(parseReach(['ipv4_default=0']), { reach: { ipv4DefaultRoute: false } });
  assert.deepEqual(parseReach(['ipv4_default=1']), { reach: { ipv4DefaultRoute: true } });
  assert.deepEqual(parseReach(['!missing /proc/net/route']), {});
  assert.deepEqual(parseReach(undefined), {});
});

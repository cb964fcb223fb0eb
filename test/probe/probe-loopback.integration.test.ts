/**
 * `bootstrap probe` for real: the CLI probes this machine through a real sshd on 127.0.0.1, and
 * the report is checked against what we can know independently (lsblk, uname -m, /proc/meminfo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HardwareReportSchema, type HardwareReport } from '../../src/probe/report.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { useSshdLab } from '../helpers/sshd.js';

const lab = useSshdLab('nb-probe-');

const env = () => ({ HOME: lab.dir, SSH_AUTH_SOCK: undefined });

interface LsblkDevice { name: string; size: number; type: string }

test('probe --json reports this machine: arch, memory and disk sizes match local tools', async () => {
  const out = join(lab.dir, 'report.json');
  const r = await runCli(['probe', lab.sshd.target, '-i', lab.sshd.clientKeyPath, '--host-key', lab.sshd.fingerprint, '--json', '--out', out, '--flake', lab.dir], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const report: HardwareReport = HardwareReportSchema.parse(JSON.parse(r.stdout));
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), JSON.parse(r.stdout), '--out writes the same report');
  assert.equal(report.source, 'probe');

  const machine = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
  assert.equal(report.arch, `${machine === 'arm64' ? 'aarch64' : machine}-linux`);

  const memKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
  assert.equal(report.memoryBytes, memKb * 1024);

  const lsblk = JSON.parse(execFileSync('lsblk', ['-J', '-b', '-d', '-o', 'NAME,SIZE,TYPE'], { encoding: 'utf8' })) as { blockdevices: LsblkDevice[] };
  const realDisks = lsblk.blockdevices.filter((d) => d.type === 'disk' && !d.name.startsWith('zram'));
  assert.ok(realDisks.length > 0, 'this machine has a disk');
  for (const d of realDisks) {
    const found = report.disks.find((x) => x.name === d.name);
    assert.ok(found, `disk ${d.name} is in the report`);
    assert.equal(found.sizeBytes, Number(d.size), `size of ${d.name}`);
    assert.equal(found.path, `/dev/${d.name}`);
  }
  for (const d of report.disks) {
    const local = lsblk.blockdevices.find((x) => x.name === d.name);
    assert.ok(local, `reported disk ${d.name} exists locally`);
    assert.equal(d.sizeBytes, Number(local.size));
  }
  assert.equal(report.access.isRoot, process.getuid?.() === 0);
  assert.ok(report.nics.some((n) => n.name !== 'lo'), 'a network interface besides lo');
});

test('probe without --json prints a short summary: a host line and one line per disk', async () => {
  const r = await runCli(['probe', lab.sshd.target, '-i', lab.sshd.clientKeyPath, '--host-key', lab.sshd.fingerprint, '--flake', lab.dir], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^host\s+\S+\s+(x86_64|aarch64)-linux\s+(bios|uefi)\s+virt=\S+/);
  const lsblk = JSON.parse(execFileSync('lsblk', ['-J', '-b', '-d', '-o', 'NAME,TYPE'], { encoding: 'utf8' })) as { blockdevices: LsblkDevice[] };
  const disks = lsblk.blockdevices.filter((d) => d.type === 'disk' && !d.name.startsWith('zram'));
  for (const d of disks) assert.ok(lines.some((l) => l.startsWith('disk') && l.includes(d.name)), `a line for ${d.name}`);
  assert.ok(lines.some((l) => l.startsWith('nic ')), 'a line per NIC');
  assert.ok(!r.stdout.trim().startsWith('{'), 'not JSON');
});

test('probe --from-facter converts each nixos-facter fixture, as JSON and as a summary', async () => {
  const dir = join(REPO_ROOT, 'test', 'fixtures', 'facter');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  assert.ok(files.length > 0, 'facter fixtures exist');
  for (const f of files) {
    const json = await runCli(['probe', '--from-facter', join(dir, f), '--json']);
    assert.equal(json.code, 0, `${f}: ${json.stderr}`);
    const report = HardwareReportSchema.parse(JSON.parse(json.stdout));
    assert.equal(report.source, 'facter');
    const text = await runCli(['probe', '--from-facter', join(dir, f)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^host .* ${report.arch} +${report.firmware} `));
  }
});

/**
 * Benchmark: plan 25 varied hardware reports in one process (issue 3: target under 1 s in total).
 * Measures loading the profiles and layouts plus 25 × buildHostPlan (rendering every file), after
 * the reports are read. Run: node --import tsx scripts/bench/plan-25.ts
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { facterToReport } from '../../src/probe/facter.js';
import { HardwareReportSchema, type HardwareReport } from '../../src/probe/report.js';
import type { PlanAnswers } from '../../src/render/plan.js';

const root = new URL('../../', import.meta.url).pathname;
const report = (name: string): HardwareReport => HardwareReportSchema.parse(JSON.parse(readFileSync(`${root}test/fixtures/reports/${name}.json`, 'utf8')));
const facter = (name: string): HardwareReport => facterToReport(readFileSync(`${root}test/fixtures/facter/${name}.json`, 'utf8'));
const GiB = 1024 ** 3;

const cases: Array<{ host: string; report: HardwareReport; answers: PlanAnswers }> = [];
const add = (host: string, r: HardwareReport, answers: PlanAnswers = {}) => cases.push({ host, report: r, answers });
for (const name of ['hetzner-cloud-x86', 'hetzner-cloud-arm64', 'hetzner-dedicated-2nvme', 'ovh-vps', 'netcup-vps', 'kvm-droplet-no-links', 'proxmox-guest', 'amd-laptop', 'intel-laptop', 'intel-nvidia-laptop', 'amd-nvidia-laptop', 'desktop-nvidia', 'dell-optiplex', 'generic-bare-metal']) {
  add(name.replace(/[^a-z0-9-]/g, '').slice(0, 40), report(name));
}
add('fac-hetzner', facter('hetzner-cloud'));
add('fac-dedicated', facter('hetzner-dedicated-legacy'), { disk: 'nvme1n1' });
add('fac-minipc', facter('amd-minipc-uefi'), { encrypt: true, hibernate: true });
add('fac-qemu', facter('qemu-report-v2'));
add('raid-btrfs', report('hetzner-dedicated-2nvme'), { layout: 'btrfs-raid1', subvolumes: ['containers', 'dev'] });
add('data-disk', report('hetzner-dedicated-2nvme'), { layout: 'data-disk' });
add('single', report('hetzner-dedicated-2nvme'), { layout: 'single-btrfs', disk: 'nvme1n1' });
add('big-ram', { ...report('generic-bare-metal'), memoryBytes: 512 * GiB });
add('laptop-hib', report('intel-laptop'), { hibernate: true, subvolumes: ['containers'] });
add('forced', report('kvm-droplet-no-links'), { profile: 'netcup-vps' });
add('vps-noswap', report('ovh-vps'), { swap: 0, target: 'root@51.75.0.10' });

const started = performance.now();
const { loadProfiles } = await import('../../src/profiles/load.js');
const { buildHostPlan } = await import('../../src/render/plan.js');
const profiles = await loadProfiles();
const loaded = performance.now();
let bytes = 0;
for (const c of cases) bytes += buildHostPlan({ host: c.host, report: c.report, answers: c.answers, profiles }).files.reduce((n, f) => n + f.content.length, 0);
const done = performance.now();

const total = done - started;
console.log(`plan-25: ${cases.length} plans, ${(bytes / 1024).toFixed(0)} KiB rendered`);
console.log(`  load profiles + layouts: ${(loaded - started).toFixed(1)} ms`);
console.log(`  ${cases.length} × buildHostPlan:      ${(done - loaded).toFixed(1)} ms (${((done - loaded) / cases.length).toFixed(2)} ms each)`);
console.log(`  total: ${total.toFixed(1)} ms — target < 1000 ms: ${total < 1000 ? 'met' : 'MISSED'}`);

/**
 * Issue 4 benchmarks, against network-namespace targets (root only) with the FAKE installer:
 *  - fleet: `rebuild --hosts h1..h8 --parallel 8` wall time vs one host's rebuild (target ≤ 1.25×)
 *  - memory: peak RSS of one full `new-host` run of the built CLI (target ≤ 150 MB)
 * Targets are Hetzner Cloud rescue-system scenarios (fake /sys and disks). Everything is torn down.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFakeMachine } from '../../test/helpers/fake-hardware.js';
import { createNetnsLab, netnsSkipReason, type NetnsHost } from '../../test/helpers/netns.js';
import { answersToml, makeFlake, type Flake } from '../../test/e2e/harness.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SCENARIO = join(ROOT, 'test/fixtures/scenarios/hetzner-cloud-bios');
const DISK = '/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_120210839';
const N = 8;

function runBuilt(f: Flake, args: string[], rssFile?: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; ms: number; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/bench/rss-wrapper.mjs'), ...args, '--flake', f.dir], {
      env: { ...process.env, ...f.env, NO_COLOR: '1', CI: 'true', ...(rssFile ? { BENCH_RSS_FILE: rssFile } : {}), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, ms: performance.now() - started, stderr: code === 0 ? stderr : `${stdout}\n${stderr}` }));
  });
}

/** Best wall time of `runs` successful runs. */
async function best(runs: number, once: () => Promise<{ code: number | null; ms: number; stderr: string }>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once();
    if (r.code !== 0) throw new Error(`run failed: ${r.stderr.slice(0, 1500)}`);
    times.push(r.ms);
  }
  return Math.min(...times);
}

async function main(): Promise<void> {
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`skipped: ${skip}`);
    return;
  }
  if (!existsSync(join(ROOT, 'dist/bin.js'))) {
    console.log('building dist/ first (npm run build)…');
    await new Promise((r) => spawn(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' }).on('close', r));
  }
  const work = mkdtempSync(join(tmpdir(), 'nb-bench-fleet-'));
  const lab = await createNetnsLab();
  const hosts = new Map<string, NetnsHost>();
  let flake: Flake | undefined;
  try {
    for (let i = 1; i <= N; i++) {
      const fake = buildFakeMachine(SCENARIO, join(work, `h${i}`));
      hosts.set(`h${i}`, await lab.addHost({ shimDir: fake.shimDir, mounts: fake.mounts, hostname: fake.hostname }));
    }
    const f = (flake = await makeFlake(hosts));

    // Peak RSS of one whole new-host run (probe, plan, keys, four phases, verify).
    const h1 = hosts.get('h1')!;
    writeFileSync(join(f.dir, 'h1.toml'), answersToml(h1, 'h1').replace('/dev/vda', DISK));
    const rssFile = join(work, 'rss');
    const first = await runBuilt(f, ['new-host', '--answers', join(f.dir, 'h1.toml')], rssFile);
    if (first.code !== 0) throw new Error(`new-host failed: ${first.stderr}`);
    const rssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
    console.log(`new-host peak RSS: ${rssMb.toFixed(1)} MB (target ≤ 150 MB) ${rssMb <= 150 ? 'OK' : 'MISSED'}; wall ${(first.ms / 1000).toFixed(2)} s`);

    // Manifests for the others (plan --write pins each target's key), then time one vs eight.
    for (let i = 2; i <= N; i++) {
      const h = hosts.get(`h${i}`)!;
      writeFileSync(join(h.dir, 'authorized_keys'), readFileSync(join(h.dir, 'authorized_keys'), 'utf8') + readFileSync(`${h1.clientKeyPath}.pub`, 'utf8'));
      const p = await runBuilt(f, ['plan', `h${i}`, '--target', h.target, '-i', h1.clientKeyPath, '--host-key', h.fingerprint, '--write']);
      if (p.code !== 0) throw new Error(`plan h${i} failed: ${p.stderr}`);
    }
    const list = Array.from({ length: N }, (_, i) => `h${i + 1}`).join(',');
    // Twice: with the fake's phases instant (all that is left is local CPU: 2 cores for 8 hosts'
    // handshakes and 32 installer processes), and with each phase taking 2 s of "remote" work,
    // as real phases do (minutes), which is what shows whether the orchestration serializes.
    for (const phaseSeconds of ['0', '2']) {
      const env = { FAKE_NA_PHASE_SECONDS: phaseSeconds };
      const single = await best(2, () => runBuilt(f, ['rebuild', 'h1', '--yes', '-i', h1.clientKeyPath], undefined, env));
      const fleet = await best(2, () => runBuilt(f, ['rebuild', '--hosts', list, '--parallel', String(N), '-i', h1.clientKeyPath], undefined, env));
      const ratio = fleet / single;
      console.log(`phases ${phaseSeconds} s: one host ${(single / 1000).toFixed(2)} s, ${N} hosts --parallel ${N} ${(fleet / 1000).toFixed(2)} s: ${ratio.toFixed(2)}× (target ≤ 1.25×) ${ratio <= 1.25 ? 'OK' : 'MISSED'}`);
    }
  } finally {
    await flake?.close();
    await lab.teardown();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

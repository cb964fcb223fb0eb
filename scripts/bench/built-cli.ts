/** Bench helpers: run the built CLI (dist/bin.js) in a flake of the e2e harness, timed. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeFlake, type Flake } from '../../test/e2e/harness.js';
import { createInstallerLab, type InstallerLab } from '../../test/helpers/installer-lab.js';
import { netnsSkipReason } from '../../test/helpers/netns.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

export interface Timed {
  code: number | null;
  ms: number;
  stderr: string;
}

export async function ensureBuilt(): Promise<void> {
  if (existsSync(join(ROOT, 'dist/bin.js'))) return;
  console.log('building dist/ first (npm run build)…');
  await new Promise((r) => spawn(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' }).on('close', r));
}

export function runBuilt(f: Flake, args: string[], rssFile?: string, extraEnv: Record<string, string> = {}): Promise<Timed> {
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
export async function best(runs: number, once: () => Promise<Timed>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once();
    if (r.code !== 0) throw new Error(`run failed: ${r.stderr.slice(0, 1500)}`);
    times.push(r.ms);
  }
  return Math.min(...times);
}

/** Run a benchmark against an installer lab and a flake of the e2e harness; both torn down after. */
export async function withBenchLab(fn: (lab: InstallerLab, f: Flake) => Promise<void>): Promise<void> {
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`skipped: ${skip}`);
    return;
  }
  await ensureBuilt();
  const lab = await createInstallerLab();
  let flake: Flake | undefined;
  try {
    flake = await makeFlake(lab);
    await fn(lab, flake);
  } finally {
    await flake?.close();
    await lab.teardown();
  }
}

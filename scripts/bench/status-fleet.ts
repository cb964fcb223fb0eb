/**
 * `bootstrap status` of a fleet: 8 namespace hosts of the health lab (test/health/health-lab.ts)
 * with --parallel 8 against 1 host, in process (runStatus), so node's start-up is not counted.
 * Each host costs one ssh2 connection and one exec of the health script (curl to a cache on the
 * bridge included). Target: 8 hosts in at most 1.3 × the time of 1. Needs root (skips otherwise).
 */
import { readFileSync } from 'node:fs';
import { createPrompter } from '../../src/ports/prompter.js';
import { Output } from '../../src/ports/output.js';
import { systemClock, type AppContext } from '../../src/context.js';
import { runCommand } from '../../src/exec/run.js';
import { runStatus } from '../../src/workflow/status/index.js';
import { createHealthLab } from '../../test/health/health-lab.js';

const HOSTS = 8;
const RUNS = 5;
const TARGET = 1.3;

/** Busy and total jiffies of the machine (/proc/stat), to tell a saturated machine from a slow tool. */
function cpu(): { busy: number; all: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { busy: f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, all: f.reduce((a, b) => a + b, 0) };
}

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

const lab = await createHealthLab();
try {
  const cache = await lab.addCache({ private: true });
  const names: string[] = [];
  for (let i = 1; i <= HOSTS; i++) {
    await lab.addHost({ name: `h${i}`, cache });
    names.push(`h${i}`);
  }
  const app: AppContext = {
    out: new Output({ write: () => {} }, { write: () => {} }, { color: false }),
    run: runCommand,
    prompts: createPrompter(false),
    clock: systemClock,
    env: { ...process.env, HOME: lab.env.HOME!, SSH_AUTH_SOCK: '' },
    cwd: lab.flakeDir,
    signal: new AbortController().signal,
  };
  const time = async (hosts: string[]) => {
    const t = performance.now();
    const { reports, exitCode } = await runStatus(app, { hosts, flakeDir: lab.flakeDir, parallel: HOSTS, json: false, strict: false, identity: lab.clientKey });
    if (exitCode !== 0) throw new Error(`status failed: ${reports.map((r) => `${r.host} ${r.status} ${r.error?.message ?? ''}`).join('; ')}`);
    return performance.now() - t;
  };
  await time(names.slice(0, 1)); // warm-up: module loading, first connection
  const c0 = cpu();
  const one: number[] = [];
  const many: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    one.push(await time(names.slice(0, 1)));
    many.push(await time(names));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = median(many) / median(one);
  console.log(`1 host:  median ${median(one).toFixed(0)} ms (${one.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`${HOSTS} hosts, --parallel ${HOSTS}: median ${median(many).toFixed(0)} ms (${many.map((x) => x.toFixed(0)).join(', ')})`);
  const c1 = cpu();
  console.log(`machine busy during the runs: ${Math.round((100 * (c1.busy - c0.busy)) / (c1.all - c0.all))}% of its cores (other processes included)`);
  console.log(`ratio ${ratio.toFixed(2)}× (target ≤ ${TARGET}×): ${ratio <= TARGET ? 'met' : 'MISSED'}`);
} finally {
  await lab.teardown();
}

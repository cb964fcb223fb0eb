/**
 * `bootstrap status` of a fleet: 8 namespace hosts of the health lab (test/health/health-lab.ts)
 * with --parallel 8 against 1 host, in process (runStatus), so node's start-up is not counted.
 * Each host costs one ssh2 connection and one exec of the health script (curl to a cache on the
 * bridge included). Target: 8 hosts in at most 1.3 × the time of 1. Needs root (skips otherwise).
 *
 * The 8 "hosts" share this machine's cores with the CLI (and whatever else runs), so the ratio has a
 * floor a real fleet does not: 8 hosts' CPU (sshd, the health script, curl) divided by the cores. The
 * benchmark measures that CPU (the CLI process, and the lab sshds' reaped sessions) and prints the
 * floor next to the ratio, so a machine too small for the lab is told apart from a CLI that serializes.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
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

/** CPU ms of finished sessions of the lab's sshds (cutime + cstime: every reaped descendant; USER_HZ 100). */
function targetCpuMs(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    sum += (Number(f[13]) + Number(f[14])) * 10; // fields 16 and 17 of stat(5), after pid and comm
  }
  return sum;
}
/** The sshd's pid from its PidFile, which it writes just after it reports listening. */
async function sshdPid(file: string): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      return Number(readFileSync(file, 'utf8').trim());
    } catch (e) {
      if (i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
const cliCpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

const lab = await createHealthLab();
try {
  const cache = await lab.addCache({ private: true });
  const names: string[] = [];
  const sshds: number[] = [];
  for (let i = 1; i <= HOSTS; i++) {
    const h = await lab.addHost({ name: `h${i}`, cache });
    names.push(`h${i}`);
    sshds.push(await sshdPid(join(h.net.dir, 'sshd.pid')));
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
  const cpuOf = { cli: new Map<number, number[]>(), target: new Map<number, number[]>() };
  const time = async (hosts: string[]) => {
    const c = cliCpuMs();
    const s = targetCpuMs(sshds);
    const t = performance.now();
    const { reports, exitCode } = await runStatus(app, { hosts, flakeDir: lab.flakeDir, parallel: HOSTS, json: false, strict: false, identity: lab.clientKey });
    if (exitCode !== 0) throw new Error(`status failed: ${reports.map((r) => `${r.host} ${r.status} ${r.error?.message ?? ''}`).join('; ')}`);
    const ms = performance.now() - t;
    for (const [k, v] of [['cli', cliCpuMs() - c], ['target', targetCpuMs(sshds) - s]] as const) cpuOf[k].set(hosts.length, [...(cpuOf[k].get(hosts.length) ?? []), v]);
    return ms;
  };
  await time(names.slice(0, 1)); // warm-up: module loading, first connection
  cpuOf.cli.clear();
  cpuOf.target.clear();
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
  const cores = availableParallelism();
  const busyPct = (100 * (c1.busy - c0.busy)) / (c1.all - c0.all);
  const ourMs = [...cpuOf.cli.values(), ...cpuOf.target.values()].flat().reduce((a, b) => a + b, 0);
  const allBusyMs = (c1.busy - c0.busy) * 10; // jiffies of all CPUs (USER_HZ 100)
  console.log(`machine busy during the runs: ${Math.round(busyPct)}% of its ${cores} cores; this benchmark's share ${Math.round((100 * ourMs) / allBusyMs)}%, other processes the rest`);
  const cli8 = median(cpuOf.cli.get(HOSTS)!);
  const target8 = median(cpuOf.target.get(HOSTS)!);
  const floor = (cli8 + target8) / cores;
  console.log(`CPU per run (median): 1 host: CLI ${median(cpuOf.cli.get(1)!).toFixed(0)} ms, lab target ${median(cpuOf.target.get(1)!).toFixed(0)} ms; ${HOSTS} hosts: CLI ${cli8.toFixed(0)} ms, lab targets ${target8.toFixed(0)} ms`);
  console.log(`CPU-bound floor: ${HOSTS} hosts need ${(cli8 + target8).toFixed(0)} ms of CPU = at least ${floor.toFixed(0)} ms on ${cores} cores with nothing else running, ${(floor / median(one)).toFixed(2)}× the 1-host median (the lab's targets run on these cores; a real fleet's do not)`);
  console.log(`ratio ${ratio.toFixed(2)}× (target ≤ ${TARGET}×): ${ratio <= TARGET ? 'met' : 'MISSED'}`);
} finally {
  await lab.teardown();
}

/**
 * `bootstrap deploy` of a fleet (issue 21): 8 deploy-lab hosts (test/deploy/deploy-lab.ts: real
 * sshds in namespaces, real generation layouts, the FAKE local nix) with --parallel 8 against 1
 * host, in process (runDeploy), so node's start-up is not counted. Two cases: a no-change deploy
 * (every host already runs its system: build, find out, report) and a real one (every host gets a
 * new system: build, copy, lock-out guard, timer, switch, check over a new connection, confirm).
 * Target: 8 hosts in at most 1.3 × the time of 1.
 *
 * As in status-fleet.ts, the 8 "hosts" share this machine's cores with the CLI (and whatever else
 * runs), so the ratio has a floor a real fleet does not: the CPU of 8 hosts' deploys (the CLI with
 * its nix subprocesses, and the lab sshds' sessions) divided by the cores. It is printed next to
 * the ratio. Needs root (skips otherwise).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createDeployLab } from '../../test/deploy/deploy-lab.js';
import { deployOnce, labApp, machineCpu, median, treeCpuMs } from './deploy-bench-lab.js';

const HOSTS = 8;
const RUNS = Number(process.env.NB_BENCH_RUNS ?? 3);
const TARGET = 1.3;

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

async function sshdPid(file: string): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  const { readFileSync } = await import('node:fs');
  return Number(readFileSync(file, 'utf8').trim());
}

const lab = await createDeployLab();
try {
  const names: string[] = [];
  const sshds: number[] = [];
  for (let i = 1; i <= HOSTS; i++) {
    const h = await lab.addHost(`web${i}`, { units: { app: 'exit 0' } }, { units: ['app.service'], ports: [22], timeout: 5 });
    names.push(h.name);
    sshds.push(await sshdPid(join(h.fs, 'run/lab-sshd.pid')));
  }
  const l = labApp(lab);
  const cores = availableParallelism();
  const cpuNow = () => ({ cli: treeCpuMs('self'), nix: treeCpuMs('self', false), target: sshds.reduce((n, pid) => n + treeCpuMs(pid, false), 0) });

  let edit = 0;
  async function bench(title: string, expect: 'unchanged' | 'deployed', prepare: (hosts: string[]) => void) {
    const walls = new Map<number, number[]>();
    const cpu = new Map<number, Array<{ cli: number; nix: number; target: number }>>();
    const time = async (hosts: string[]) => {
      prepare(hosts);
      const c = cpuNow();
      const t = performance.now();
      await deployOnce(lab, l, hosts, expect, HOSTS);
      const ms = performance.now() - t;
      const d = cpuNow();
      walls.set(hosts.length, [...(walls.get(hosts.length) ?? []), ms]);
      cpu.set(hosts.length, [...(cpu.get(hosts.length) ?? []), { cli: d.cli - c.cli, nix: d.nix - c.nix, target: d.target - c.target }]);
    };
    await time(names.slice(0, 1)); // warm-up
    walls.clear();
    cpu.clear();
    const m0 = machineCpu();
    for (let r = 0; r < RUNS; r++) {
      await time(names.slice(0, 1));
      await time(names);
    }
    const m1 = machineCpu();
    const one = walls.get(1)!;
    const many = walls.get(HOSTS)!;
    const ratio = median(many) / median(one);
    const cli8 = median(cpu.get(HOSTS)!.map((x) => x.cli));
    const target8 = median(cpu.get(HOSTS)!.map((x) => x.target));
    const floor = (cli8 + target8) / cores;
    console.log(`\n${title}`);
    console.log(`1 host:  median ${median(one).toFixed(0)} ms (${one.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`${HOSTS} hosts, --parallel ${HOSTS}: median ${median(many).toFixed(0)} ms (${many.map((x) => x.toFixed(0)).join(', ')})`);
    const ours = [...cpu.values()].flat().reduce((n, x) => n + x.cli + x.target, 0);
    console.log(`machine busy during the runs: ${Math.round((100 * (m1.busy - m0.busy)) / (m1.all - m0.all))}% of its ${cores} cores; this benchmark's share ${Math.round((100 * ours) / ((m1.busy - m0.busy) * 10))}%, other processes the rest`);
    const of = (n: number, k: 'cli' | 'nix' | 'target') => median(cpu.get(n)!.map((x) => x[k])).toFixed(0);
    console.log(`CPU per run (median): 1 host: CLI ${of(1, 'cli')} ms (of which its subprocesses, the FAKE nix and ssh: ${of(1, 'nix')} ms), lab target ${of(1, 'target')} ms; ${HOSTS} hosts: CLI ${of(HOSTS, 'cli')} ms (subprocesses ${of(HOSTS, 'nix')} ms), lab targets ${of(HOSTS, 'target')} ms`);
    console.log(`CPU-bound floor: ${HOSTS} hosts need ${(cli8 + target8).toFixed(0)} ms of CPU = at least ${floor.toFixed(0)} ms on ${cores} cores with nothing else running, ${(floor / median(one)).toFixed(2)}× the 1-host median (the lab's targets and the fake nix run on these cores; a real fleet's do not)`);
    // What the other processes left: their CPU over the runs' wall time, in cores.
    const wall = [...walls.values()].flat().reduce((a, b) => a + b, 0);
    const others = Math.max(0, ((m1.busy - m0.busy) * 10 - ours) / wall);
    const free = Math.max(0.25, cores - others);
    console.log(`with the other processes' load meanwhile (${others.toFixed(2)} of ${cores} cores), the floor is ${((cli8 + target8) / free).toFixed(0)} ms = ${((cli8 + target8) / free / median(one)).toFixed(2)}× the 1-host median`);
    console.log(`ratio ${ratio.toFixed(2)}× (target ≤ ${TARGET}×): ${ratio <= TARGET ? 'met' : 'MISSED'}${ratio > TARGET && floor / median(one) > TARGET ? ' (the CPU floor alone is above the target on this machine)' : ''}`);
  }

  await bench('no-change deploy (every host already runs its system)', 'unchanged', () => {});
  await bench('real deploy (every host gets a new system)', 'deployed', (hosts) => {
    edit++;
    for (const h of hosts) lab.writeConfig(h, { units: { app: 'exit 0' }, motd: `bench edit ${edit}` });
  });
} finally {
  await lab.teardown();
}

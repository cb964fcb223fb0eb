/**
 * What the deploy benchmarks share: the deploy lab (test/deploy/deploy-lab.ts: namespace hosts with a
 * real generation layout, the FAKE local nix) driven in process through runDeploy / runStatus, so
 * node's start-up is not counted, and delay proxies (delay-proxy.mjs) in front of a lab host: the
 * manifest's target is pointed at the proxy, whose port is pinned in the flake's known_hosts like
 * the host's own. Each proxy reports the direction changes of every connection it closed, so a run
 * is counted in connections and round trips, not only in wall time. Not a benchmark itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createPrompter } from '../../src/ports/prompter.js';
import { Output } from '../../src/ports/output.js';
import { systemClock, type AppContext } from '../../src/context.js';
import { runCommand } from '../../src/exec/run.js';
import { runDeploy } from '../../src/workflow/deploy/index.js';
import type { DeployHostResult } from '../../src/workflow/deploy/host.js';
import type { DeployLab } from '../../test/deploy/deploy-lab.js';

export interface DelayProxy {
  port: number;
  /** Direction changes of each connection closed so far (two are about one round trip). */
  closed: number[];
  stop(): void;
}

/** A delay proxy (DELAY ms each way) to host:port on a loopback port. */
export function startDelayProxy(delayMs: number, host: string, port: number): Promise<DelayProxy> {
  const child: ChildProcess = spawn(process.execPath, [new URL('./delay-proxy.mjs', import.meta.url).pathname, String(delayMs), host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed: number[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve({ port: Number(m[1]), closed, stop: () => child.kill('SIGTERM') });
      else if (line.startsWith('{')) closed.push((JSON.parse(line) as { turns: number }).turns);
    });
    child.once('exit', (code) => reject(new Error(`delay proxy exited ${code}`)));
  });
}

/** Point HOST's manifest at 127.0.0.1:PORT (a proxy), and pin the host's key under that name. */
export function pointAt(lab: DeployLab, host: string, port: number): void {
  const file = join(lab.flakeDir, 'hosts', host, 'bootstrap.toml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^target = ".*"$/m, `target = "root@127.0.0.1:${port}"`));
  const pub = readFileSync(`${lab.hosts[host]!.net.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const known = join(lab.flakeDir, '.bootstrap/known_hosts');
  if (!readFileSync(known, 'utf8').includes(`[127.0.0.1]:${port} `)) appendFileSync(known, `[127.0.0.1]:${port} ${pub}\n`);
}

/** An AppContext for the lab, silent; `stdout()` is what the run printed there (--json). */
export function labApp(lab: DeployLab): { app: AppContext; stdout: () => string } {
  // The FAKE nix and the lab's store reach subprocesses through this process's environment.
  for (const [k, v] of Object.entries(lab.env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let out = '';
  const app: AppContext = {
    out: new Output({ write: (s: string) => { out += s; } }, { write: () => {} }, { color: false }),
    run: runCommand,
    prompts: createPrompter(false),
    clock: systemClock,
    env: { ...process.env, SSH_AUTH_SOCK: '' },
    cwd: lab.flakeDir,
    signal: new AbortController().signal,
  };
  return { app, stdout: () => { const s = out; out = ''; return s; } };
}

/** `bootstrap deploy HOSTS --json` in process; the per-host results. Throws unless each is `expect`. */
export async function deployOnce(lab: DeployLab, l: ReturnType<typeof labApp>, hosts: string[], expect: DeployHostResult['status'], parallel = hosts.length, allowLockout = false): Promise<DeployHostResult[]> {
  l.stdout();
  const code = await runDeploy(l.app, {
    hosts, flakeDir: lab.flakeDir, parallel, canary: 0, buildOn: 'local', confirmTimeout: 90, resume: false, dryRun: false, json: true, identity: lab.clientKey, timeout: '10', allowLockout,
  });
  const doc = JSON.parse(l.stdout()) as { hosts: DeployHostResult[] };
  const bad = doc.hosts.filter((h) => h.status !== expect);
  if (code !== 0 || bad.length) throw new Error(`deploy: exit ${code}; ${bad.map((h) => `${h.host} ${h.status} ${h.error?.message ?? ''}`).join('; ')}`);
  return doc.hosts;
}

/** Busy and total jiffies of the machine (/proc/stat), to tell a saturated machine from a slow tool. */
export function machineCpu(): { busy: number; all: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { busy: f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, all: f.reduce((a, b) => a + b, 0) };
}

/** CPU ms of a process and its reaped descendants (utime stime cutime cstime of stat(5); USER_HZ 100). */
export function treeCpuMs(pid: number | 'self', own = true): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((own ? Number(f[11]) + Number(f[12]) : 0) + Number(f[13]) + Number(f[14])) * 10;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One lab host (web1) behind two proxies: one without delay, one `oneWayMs` each way (the slow link). */
export interface LinkedHost {
  lab: DeployLab;
  fast: DelayProxy;
  slow: DelayProxy;
  l: ReturnType<typeof labApp>;
  /** Stop the proxies and tear the lab down. */
  close(): Promise<void>;
}

export async function startLinkedHost(createLab: () => Promise<DeployLab>, oneWayMs: number): Promise<LinkedHost> {
  const lab = await createLab();
  const proxies: DelayProxy[] = [];
  const close = async () => {
    for (const p of proxies) p.stop();
    await lab.teardown();
  };
  try {
    const h = await lab.addHost('web1', { units: { app: 'exit 0' } }, { units: ['app.service'], ports: [22], timeout: 5 });
    proxies.push(await startDelayProxy(0, h.net.ip, 22));
    proxies.push(await startDelayProxy(oneWayMs, h.net.ip, 22));
    return { lab, fast: proxies[0]!, slow: proxies[1]!, l: labApp(lab), close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface LinkFigures {
  fast: number;
  slow: number;
  /** (slow − fast) / RTT: the local work cancels out. */
  rtt: number;
  conns: number;
  /** Round trips by the slow proxy's count of direction changes. */
  turnTrips: number;
}

/** Median wall time of `fn` over each link, `runs` times, with the slow proxy's connections and turns per run. */
export async function measureOverLinks(h: LinkedHost, oneWayMs: number, runs: number, fn: () => Promise<unknown>): Promise<LinkFigures> {
  const walls = { fast: [] as number[], slow: [] as number[] };
  const conns: number[] = [];
  const trips: number[] = [];
  for (let r = 0; r < runs; r++) {
    for (const p of [h.fast, h.slow]) {
      pointAt(h.lab, 'web1', p.port);
      const before = p.closed.length;
      const t = performance.now();
      await fn();
      (p === h.fast ? walls.fast : walls.slow).push(performance.now() - t);
      if (p === h.slow) {
        // The proxy reports a connection once both sides closed (at most one delay later).
        await new Promise((res) => setTimeout(res, 3 * oneWayMs));
        const mine = p.closed.slice(before);
        conns.push(mine.length);
        trips.push(mine.reduce((a, b) => a + b, 0) / 2);
      }
    }
  }
  const f = median(walls.fast);
  const s = median(walls.slow);
  return { fast: f, slow: s, rtt: (s - f) / (2 * oneWayMs), conns: median(conns), turnTrips: median(trips) };
}

/**
 * Health report latency over a slow link (issue 12): the same namespace sshd and userspace delay
 * proxy as probe-latency.ts (100 ms added round-trip time). Measures the report's collection (one
 * ssh2 connection, one exec of the health script). Round trips = (wall with delay − wall without) / 100 ms. Target: at most 8 round trips,
 * handshake included. Needs root (skips otherwise).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Output } from '../../src/cli/ui.js';
import { createPrompter } from '../../src/cli/prompter.js';
import { runCommand } from '../../src/exec/run.js';
import { runCollectFacts } from '../../src/health/collect.js';
import type { HealthExpectations } from '../../src/health/expect.js';
import { buildFingerprint } from '../../src/ssh/host-keys.js';
import { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import type { SessionPorts } from '../../src/ssh/session.js';
import { parseTarget } from '../../src/ssh/target.js';

const ONE_WAY_MS = 50;
const RTT_MS = 2 * ONE_WAY_MS;
const RUNS = Number(process.env.NB_BENCH_RUNS ?? 5);
const TARGET_RTT = 8;

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

const id = (process.pid % 100000) + 1;
const ns = `nbb-${id}`;
const veth = `nbbv${id}`;
const hostIp = '10.239.250.1';
const nsIp = '10.239.250.2';
const dir = mkdtempSync(join(tmpdir(), 'nb-bench-'));
const ip = (...args: string[]) => runCommand(['ip', ...args]);
const proxies: ChildProcess[] = [];
let sshdPid: number | undefined;

function startProxy(delayMs: number): Promise<number> {
  const child = spawn(process.execPath, [new URL('./delay-proxy.mjs', import.meta.url).pathname, String(delayMs), nsIp, '22'], { stdio: ['ignore', 'pipe', 'inherit'] });
  proxies.push(child);
  const turns: number[] = [];
  (child as ChildProcess & { turns?: number[] }).turns = turns;
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
      else if (line.startsWith('{')) turns.push((JSON.parse(line) as { turns: number }).turns);
    });
    child.once('exit', (code) => reject(new Error(`delay proxy exited ${code}`)));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function setUp(): Promise<void> {
  await runCommand(['ip', 'netns', 'del', ns], { check: false });
  mkdirSync('/run/sshd', { recursive: true });
  await ip('netns', 'add', ns);
  await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await ip('addr', 'add', `${hostIp}/30`, 'dev', veth);
  await ip('link', 'set', veth, 'up');
  await ip('-n', ns, 'addr', 'add', `${nsIp}/30`, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  for (const k of ['host', 'client']) await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', join(dir, k)]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  writeFileSync(join(dir, 'sshd_config'), [
    'Port 22', `ListenAddress ${nsIp}`, `HostKey ${join(dir, 'host')}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', '',
  ].join('\n'));
  // Daemon mode: the pid file appears once sshd listens (shared/test-infra.md §2).
  await runCommand(['ip', 'netns', 'exec', ns, '/usr/sbin/sshd', '-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
  for (let i = 0; i < 100 && !existsSync(join(dir, 'sshd.pid')); i++) await new Promise((r) => setTimeout(r, 50));
  sshdPid = Number(readFileSync(join(dir, 'sshd.pid'), 'utf8'));
}

async function tearDown(): Promise<void> {
  for (const p of proxies) p.kill('SIGTERM');
  if (sshdPid) {
    try { process.kill(sshdPid, 'SIGTERM'); } catch { /* already gone */ }
  }
  await new Promise((r) => setTimeout(r, 100));
  await runCommand(['ip', 'netns', 'del', ns], { check: false });
  await runCommand(['ip', 'link', 'del', veth], { check: false });
  rmSync(dir, { recursive: true, force: true });
}

try {
  await setUp();
  const hostPub = readFileSync(join(dir, 'host.pub'), 'utf8').split(' ');
  const fingerprint = buildFingerprint(Buffer.from(hostPub[1]!, 'base64'));
  const ports: SessionPorts = {
    out: new Output({ write: () => {} }, { write: () => {} }, { color: false }),
    prompts: createPrompter(false),
    env: { HOME: dir },
    signal: new AbortController().signal,
  };
  const expectations: HealthExpectations = {
    host: 'bench1', context: 'status', builtToplevel: null, layout: null,
    secrets: { mode: 'sops', keyFiles: ['/var/lib/sops-nix/key.txt'] }, cache: null, backupConfigured: false,
  };
  const rows: { name: string; base: number; slow: number }[] = [];
  const fast = await startProxy(0);
  const slow = await startProxy(ONE_WAY_MS);
  const sshOpts = (port: number) => {
    const target = parseTarget(`root@127.0.0.1:${port}`);
    const hostKeys = new HostKeyPolicy(ports, { flakeDir: dir });
    hostKeys.pin(target, fingerprint);
    return { target, ssh: { hostKeys, identityFile: join(dir, 'client') } };
  };
  const measure = async (name: string, fn: (port: number) => Promise<unknown>) => {
    rows.push({ name, base: await timed(() => fn(fast), RUNS), slow: await timed(() => fn(slow), RUNS) });
  };
  await runCollectFacts(ports, { ...sshOpts(fast), expectations }); // warm up, unmeasured
  await measure('bootstrap health report (ssh2, 1 connection, 1 exec)', (port) => runCollectFacts(ports, { ...sshOpts(port), expectations }));
  console.log(`added round-trip time ${RTT_MS} ms (delay proxy, ${ONE_WAY_MS} ms each way); median of ${RUNS} runs`);
  console.log(`${'method'.padEnd(56)} ${'no delay'.padStart(9)} ${'+100ms RTT'.padStart(11)} ${'round trips'.padStart(12)}`);
  for (const r of rows) console.log(`${r.name.padEnd(56)} ${`${r.base.toFixed(0)} ms`.padStart(9)} ${`${r.slow.toFixed(0)} ms`.padStart(11)} ${((r.slow - r.base) / RTT_MS).toFixed(1).padStart(12)}`);
  const trips = (rows[0]!.slow - rows[0]!.base) / RTT_MS;
  console.log(`our health report: ${trips.toFixed(1)} round trips (target <= ${TARGET_RTT}): ${trips <= TARGET_RTT ? 'MET' : 'MISSED'}`);
} finally {
  await tearDown();
}

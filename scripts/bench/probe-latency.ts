/**
 * Probe latency over a slow link: an sshd inside a network namespace, reached through a userspace
 * delay proxy that adds 100 ms of round-trip time (no netem in this kernel). Measures our probe
 * (one ssh2 connection, one exec), the OpenSSH client running the same script, and one exec per
 * fact (10 facts) both as 10 OpenSSH connections and as 10 execs on one ssh2 connection.
 * Round trips = (wall with delay − wall without) / 100 ms, so compute on either side cancels out.
 * Target: our probe in at most 8 round trips, handshake included. Needs root (skips otherwise).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Output } from '../../src/cli/ui.js';
import { createPrompter } from '../../src/cli/prompter.js';
import { runCommand } from '../../src/exec/run.js';
import { runProbe, LINUX_GUARD } from '../../src/probe/run-probe.js';
import { loadProbeScript, PROBE_COMMAND } from '../../src/probe/script.js';
import { buildFingerprint } from '../../src/ssh/host-keys.js';
import { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import { withSession, type SessionPorts } from '../../src/ssh/session.js';
import { parseTarget } from '../../src/ssh/target.js';

const ONE_WAY_MS = 50;
const RTT_MS = 2 * ONE_WAY_MS;
const RUNS = 5;
const TARGET_RTT = 8;
const FACTS = [
  'uname -m', 'cat /proc/cpuinfo', 'cat /proc/meminfo', 'lsblk -J -b', 'ls -l /dev/disk/by-id',
  'ip -j addr', 'ip -j route', 'cat /etc/os-release', 'systemd-detect-virt', 'ls /sys/firmware/efi',
];

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

const id = process.pid % 100000;
const ns = `nbb-${id}`;
const veth = `nbbv${id}`;
const hostIp = '10.231.0.249';
const nsIp = '10.231.0.250';
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
  const script = LINUX_GUARD + loadProbeScript();
  const ports: SessionPorts = {
    out: new Output({ write: () => {} }, { write: () => {} }, { color: false }),
    prompts: createPrompter(false),
    env: { HOME: dir },
    signal: new AbortController().signal,
  };

  const rows: { name: string; base: number; slow: number; turns?: number }[] = [];
  const fast = await startProxy(0);
  const slow = await startProxy(ONE_WAY_MS);
  const slowProxy = proxies[1] as ChildProcess & { turns: number[] };

  const measure = async (name: string, runs: number, fn: (port: number) => Promise<unknown>) => {
    const base = await timed(() => fn(fast), runs);
    const before = slowProxy.turns.length;
    const slowMs = await timed(() => fn(slow), runs);
    await new Promise((r) => setTimeout(r, 3 * ONE_WAY_MS)); // let the proxy report the closed connections
    const t = slowProxy.turns.slice(before);
    rows.push({ name, base, slow: slowMs, ...(t.length === runs ? { turns: median(t) } : {}) });
  };

  const sshOpts = (port: number) => {
    const target = parseTarget(`root@127.0.0.1:${port}`);
    const hostKeys = new HostKeyPolicy(ports, { flakeDir: dir });
    hostKeys.pin(target, fingerprint);
    return { target, opts: { hostKeys, identityFile: join(dir, 'client') } };
  };
  const kh = join(dir, 'known_hosts');
  writeFileSync(kh, `[127.0.0.1]:${fast} ${hostPub[0]} ${hostPub[1]}\n[127.0.0.1]:${slow} ${hostPub[0]} ${hostPub[1]}\n`);
  const openssh = (port: number, cmd: string, input?: string) => runCommand([
    'ssh', '-F', '/dev/null', '-p', String(port), '-i', join(dir, 'client'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', 'root@127.0.0.1', cmd,
  ], { ...(input !== undefined ? { input } : {}), check: false });

  // Warm up sshd, the page cache and our own modules once, unmeasured.
  { const { target, opts } = sshOpts(fast); await runProbe(ports, target, opts); }

  await measure('bootstrap probe (ssh2, 1 connection, 1 exec)', RUNS, (port) => {
    const { target, opts } = sshOpts(port);
    return runProbe(ports, target, opts);
  });
  await measure('OpenSSH client, same script on stdin', RUNS, (port) => openssh(port, PROBE_COMMAND, script));
  await measure(`ssh2, 1 connection, ${FACTS.length} execs (one per fact)`, RUNS, (port) => {
    const { target, opts } = sshOpts(port);
    return withSession(ports, target, opts, async (s) => { for (const f of FACTS) await s.exec(f); });
  });
  await measure(`OpenSSH client, ${FACTS.length} connections (one per fact)`, 1, async (port) => {
    for (const f of FACTS) await openssh(port, f);
  });

  console.log(`added round-trip time ${RTT_MS} ms (delay proxy, ${ONE_WAY_MS} ms each way); median of ${RUNS} runs (1 for the last row)`);
  console.log(`${'method'.padEnd(52)} ${'no delay'.padStart(9)} ${'+100ms RTT'.padStart(11)} ${'wall/RTT'.padStart(9)} ${'round trips'.padStart(12)} ${'turns/2'.padStart(8)}`);
  for (const r of rows) {
    const trips = (r.slow - r.base) / RTT_MS;
    console.log(`${r.name.padEnd(52)} ${`${r.base.toFixed(0)} ms`.padStart(9)} ${`${r.slow.toFixed(0)} ms`.padStart(11)} ${(r.slow / RTT_MS).toFixed(1).padStart(9)} ${trips.toFixed(1).padStart(12)} ${(r.turns !== undefined ? (r.turns / 2).toFixed(1) : '-').padStart(8)}`);
  }
  const ours = rows[0]!;
  const trips = (ours.slow - ours.base) / RTT_MS;
  console.log(`our probe: ${trips.toFixed(1)} round trips (target <= ${TARGET_RTT}): ${trips <= TARGET_RTT ? 'MET' : 'MISSED'}`);
} finally {
  await tearDown();
}

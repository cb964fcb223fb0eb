/**
 * The benchmarks' slow link: an sshd inside a network namespace, reached through a userspace
 * delay proxy (no netem in this kernel), one proxy without delay and one adding ONE_WAY_MS each
 * way. Round trips of a method = (wall with delay − wall without) / RTT_MS, so compute on either
 * side cancels out. Everything is torn down afterwards, also on failure. Needs root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Output } from '../../src/ports/output.js';
import { createPrompter } from '../../src/ports/prompter.js';
import { runCommand } from '../../src/exec/run.js';
import { buildFingerprint } from '../../src/ssh/host-keys.js';
import { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import type { SessionPorts, SshOptions } from '../../src/ssh/session.js';
import { parseTarget, type SshTarget } from '../../src/ssh/target.js';

export const ONE_WAY_MS = 50;
export const RTT_MS = 2 * ONE_WAY_MS;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function timed(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export interface SlowLink {
  dir: string;
  /** The sshd's host key: [type, base64]. */
  hostPub: [string, string];
  /** Loopback ports of the proxy without delay and with it. */
  fast: number;
  slow: number;
  /** Turn counts the slow proxy reported, one per closed connection. */
  slowTurns: number[];
  ports: SessionPorts;
  /** root@127.0.0.1:PORT with the host key pinned and the client key. */
  pinned(port: number): { target: SshTarget; ssh: SshOptions };
}

/** Run `fn` with a slow link on the addresses given (a /30 no other test uses), then tear it down. */
export async function withSlowLink<T>(addr: { hostIp: string; nsIp: string; tag: string }, fn: (link: SlowLink) => Promise<T>): Promise<T> {
  const { hostIp, nsIp } = addr;
  const id = `${addr.tag}${process.pid % 100000}`;
  const ns = `nbb-${id}`;
  const veth = `nbbv${id}`;
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
    const hostPub = readFileSync(join(dir, 'host.pub'), 'utf8').split(' ') as [string, string];
    const fingerprint = buildFingerprint(Buffer.from(hostPub[1], 'base64'));
    const ports: SessionPorts = {
      out: new Output({ write: () => {} }, { write: () => {} }, { color: false }),
      prompts: createPrompter(false),
      env: { HOME: dir },
      signal: new AbortController().signal,
    };
    const fast = await startProxy(0);
    const slow = await startProxy(ONE_WAY_MS);
    const slowTurns = (proxies[1] as ChildProcess & { turns: number[] }).turns;
    const pinned = (port: number) => {
      const target = parseTarget(`root@127.0.0.1:${port}`);
      const hostKeys = new HostKeyPolicy(ports, { flakeDir: dir });
      hostKeys.pin(target, fingerprint);
      return { target, ssh: { hostKeys, identityFile: join(dir, 'client') } };
    };
    return await fn({ dir, hostPub, fast, slow, slowTurns, ports, pinned });
  } finally {
    await tearDown();
  }
}

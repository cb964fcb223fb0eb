/**
 * Test hosts in network namespaces (shared/test-infra.md §3): a per-run bridge on a per-run
 * 10.231.X.0/24, one namespace per host with its own OpenSSH sshd on 10.231.X.Y:22, optional PATH
 * shims and fake hardware mounted in a private mount (and UTS) namespace. `teardown()` is
 * idempotent: it kills every sshd first, then deletes the namespaces and the bridge.
 * Needs root (`netnsSkipReason()` says why not).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fingerprintOfPub } from './sshd.js';

export interface Mount { target: string; source: string }

export interface NetnsHostOptions {
  /** Directory put first on the login PATH of every session (fake commands). */
  shimDir?: string;
  /** Bind mounts (directories or files) over real paths, private to this host's sshd and its sessions. */
  mounts?: Mount[];
  hostname?: string;
  hostKeyPath?: string;
}

export interface NetnsHost {
  ns: string;
  ip: string;
  port: 22;
  dir: string;
  clientKeyPath: string;
  knownHostsPath: string;
  readonly hostKeyPath: string;
  readonly fingerprint: string;
  target: string;
  /** argv prefix for the OpenSSH client with the pinned known_hosts (append the remote command). */
  sshArgv(): string[];
  restartWithHostKey(keyPath?: string): Promise<void>;
  stop(): Promise<void>;
}

export interface NetnsLab {
  subnet: string;
  addHost(opts?: NetnsHostOptions): Promise<NetnsHost>;
  teardown(): Promise<void>;
}

/** Why netns tests cannot run here, or null when they can. */
export function netnsSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 `ip netns` is not available';
  }
  return null;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function tryRun(fn: () => void): void {
  try { fn(); } catch { /* teardown is best effort and idempotent */ }
}

/** A 10.231.X.0/24 no interface on this machine uses yet (other runs may be in parallel). */
function pickSubnet(): number {
  const used = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const x = 1 + (randomBytes(1)[0]! % 254);
    if (!used.includes(`10.231.${x}.`)) return x;
  }
  throw new Error('no free 10.231.X.0/24 subnet');
}

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'netns-test', '-f', path]);
}

function waitListening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`sshd did not start: ${err.trim()}`)), 10_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (/Server listening on/.test(err)) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`sshd exited ${code}: ${err.trim()}`)); });
  });
}

/** The shell that prepares the private mounts, then execs sshd (argv, no user text inside). */
export function buildMountScript(mounts: readonly Mount[], hostname: string | undefined): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['set -e'];
  for (const m of mounts) {
    if (m.target === '/dev') {
      // Bring the device nodes sshd and sh need into the fake /dev before it hides the real one.
      lines.push(`for n in null zero full random urandom tty; do mount --bind /dev/$n ${q(m.source)}/$n; done`);
      lines.push(`mount --rbind ${q(m.source)} /dev`);
    } else lines.push(`mount --bind ${q(m.source)} ${q(m.target)}`);
  }
  if (hostname) lines.push(`hostname ${q(hostname)}`);
  lines.push('exec /usr/sbin/sshd -D -e -f "$1"');
  return lines.join('\n');
}

export async function createNetnsLab(): Promise<NetnsLab> {
  const run = randomBytes(2).toString('hex');
  const x = pickSubnet();
  const bridge = `nb${run}br`;
  const base = mkdtempSync(join(tmpdir(), `nb-netns-${run}-`));
  const hosts: NetnsHost[] = [];
  const namespaces: string[] = [];
  mkdirSync('/run/sshd', { recursive: true });
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `10.231.${x}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');

  let torn = false;
  const lab: NetnsLab = {
    subnet: `10.231.${x}.0/24`,
    async addHost(opts = {}) {
      const n = hosts.length + 1;
      const ns = `nb${run}h${n}`;
      const veth = `nb${run}v${n}`;
      const hostIp = `10.231.${x}.${10 + n}`;
      const dir = join(base, ns);
      mkdirSync(dir, { recursive: true });
      tryRun(() => ip('netns', 'del', ns));
      ip('netns', 'add', ns);
      namespaces.push(ns);
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', veth, 'master', bridge, 'up');
      ip('-n', ns, 'addr', 'add', `${hostIp}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'route', 'add', 'default', 'via', `10.231.${x}.1`);

      const clientKeyPath = join(dir, 'client_ed25519');
      keygen(clientKeyPath);
      copyFileSync(`${clientKeyPath}.pub`, join(dir, 'authorized_keys'));
      let hostKeyPath = join(dir, 'host_ed25519');
      if (opts.hostKeyPath) {
        copyFileSync(opts.hostKeyPath, hostKeyPath);
        copyFileSync(`${opts.hostKeyPath}.pub`, `${hostKeyPath}.pub`);
      } else keygen(hostKeyPath);
      const knownHostsPath = join(dir, 'known_hosts');
      const mountScript = join(dir, 'start.sh');
      writeFileSync(mountScript, buildMountScript(opts.mounts ?? [], opts.hostname));

      let child: ChildProcess | undefined;
      const launch = async () => {
        writeFileSync(join(dir, 'sshd_config'), [
          'Port 22', `ListenAddress ${hostIp}`, `HostKey ${hostKeyPath}`, `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password',
          'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
          ...(opts.shimDir ? [`SetEnv PATH=${opts.shimDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`] : []),
        ].join('\n') + '\n');
        const pub = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
        writeFileSync(knownHostsPath, `${hostIp} ${pub}\n`);
        // ip netns exec → unshare (private mounts + own hostname) → sh (mounts) → exec sshd: one pid.
        child = spawn('ip', ['netns', 'exec', ns, 'unshare', '-m', '-u', '--propagation', 'private', 'sh', mountScript, join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
        await waitListening(child);
      };
      const kill = async () => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        await new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGTERM'); });
      };
      await launch();
      const host: NetnsHost = {
        ns, ip: hostIp, port: 22, dir, clientKeyPath, knownHostsPath,
        get hostKeyPath() { return hostKeyPath; },
        get fingerprint() { return fingerprintOfPub(readFileSync(`${hostKeyPath}.pub`, 'utf8')); },
        target: `root@${hostIp}`,
        sshArgv: () => ['ssh', '-i', clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHostsPath}`,
          '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', `root@${hostIp}`],
        async restartWithHostKey(keyPath?: string) {
          await kill();
          const next = join(dir, `host_ed25519_${Date.now()}`);
          if (keyPath) {
            copyFileSync(keyPath, next);
            copyFileSync(`${keyPath}.pub`, `${next}.pub`);
          } else keygen(next);
          hostKeyPath = next;
          await launch();
        },
        stop: kill,
      };
      hosts.push(host);
      return host;
    },
    async teardown() {
      if (torn) return;
      torn = true;
      for (const h of hosts) await h.stop().catch(() => {});
      for (const ns of namespaces) tryRun(() => ip('netns', 'del', ns));
      tryRun(() => ip('link', 'del', bridge));
      rmSync(base, { recursive: true, force: true });
    },
  };
  return lab;
}

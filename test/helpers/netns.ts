/**
 * Test hosts in network namespaces (shared/test-infra.md §3): a per-run bridge on a per-run
 * 10.231.X.0/24, one namespace per host with its own OpenSSH sshd on 10.231.X.Y:22, optional PATH
 * shims and fake hardware mounted in a private mount (and UTS) namespace. `teardown()` is
 * idempotent: it kills every sshd (and anything else still running in the namespaces) first, then
 * deletes the namespaces and the bridge. The port, the sshd_config and where sshd reads its host
 * key can be set per host, and `restart()` changes them (installer-lab.ts: kexec and reboot).
 * Needs root (`netnsSkipReason()` says why not).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fingerprintOfPub, keygen, nextHostKey, waitListening } from './sshd.js';

export interface Mount { target: string; source: string }

export interface NetnsHostOptions {
  /** Directory put first on the login PATH of every session (fake commands). */
  shimDir?: string;
  /** Bind mounts (directories or files) over real paths, private to this host's sshd and its sessions. */
  mounts?: Mount[];
  hostname?: string;
  hostKeyPath?: string;
  /** sshd's port (default 22). */
  port?: number;
  /**
   * sshd reads its host key at `inside` (a path in the host's mount namespace, e.g. under a
   * bind-mounted /etc/ssh); `file` is that same file as the test sees it. Default: a file in `dir`.
   */
  hostKey?: { file: string; inside: string };
  /** sshd_config AuthorizedKeysFile (default: `dir`/authorized_keys, holding the client key). */
  authorizedKeysFile?: string;
  /** More sshd_config lines. They come first, so they win for single-valued keywords (PermitRootLogin, …). */
  sshdConfig?: string[];
  /** More variables for every session (sshd SetEnv), next to PATH. */
  env?: Record<string, string>;
  /**
   * Write no `Port` line: the ports come from `sshdConfig` (e.g. an Include the host itself
   * rewrites before it sends sshd SIGHUP, as the deploy lab's switch-to-configuration does).
   */
  portFromConfig?: boolean;
  /** sshd's ListenAddress instead of the host's bridge address (a host behind a bastion, bastion.ts). */
  listenAddress?: string;
  /** Runs once the namespace and its bridge link exist, before sshd first starts (extra links). */
  setup?: (ns: string) => void;
}

export interface RestartOptions {
  /** 'keep' (default for restart()), 'fresh' (a new key) or the path of a private key (its .pub beside it). */
  hostKey?: 'keep' | 'fresh' | string;
  port?: number;
  /** Replaces the extra sshd_config lines. */
  sshdConfig?: string[];
  /** How long sshd stays down between stop and start (a machine rebooting is unreachable for a while). */
  downMs?: number;
  /** Runs while sshd is down, just before it starts again. */
  beforeStart?: () => void | Promise<void>;
}

export interface NetnsHost {
  ns: string;
  ip: string;
  /** The port sshd listens on now. */
  readonly port: number;
  dir: string;
  clientKeyPath: string;
  knownHostsPath: string;
  readonly hostKeyPath: string;
  readonly fingerprint: string;
  target: string;
  /** argv prefix for the OpenSSH client with the pinned known_hosts (append the remote command). */
  sshArgv(): string[];
  restartWithHostKey(keyPath?: string): Promise<void>;
  /** Stop sshd, optionally change its key, port or config, start it again. */
  restart(opts?: RestartOptions): Promise<void>;
  /** Whether sshd is running. */
  readonly running: boolean;
  stop(): Promise<void>;
}

export interface NetnsLab {
  subnet: string;
  /** The bridge's address in the root namespace: where processes on the hosts reach the test process. */
  gateway: string;
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

/** The pids of every process still running in a namespace. */
function netnsPids(ns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Synchronous last-resort cleanups, run when the process exits or is told to stop before a teardown. */
const exitCleanups = new Set<() => void>();
const runExitCleanups = () => {
  for (const c of [...exitCleanups]) tryRun(c);
  exitCleanups.clear();
};
const onStopSignal = (signal: NodeJS.Signals) => {
  runExitCleanups();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
/**
 * Run `fn` (synchronous, best effort) if the process exits or gets SIGTERM/SIGINT (a test runner's
 * timeout) before the returned `cancel()` is called: namespaces and sshds outlive a killed test
 * process otherwise.
 */
export function cleanupOnExit(fn: () => void): () => void {
  if (exitCleanups.size === 0) {
    process.on('exit', runExitCleanups);
    process.on('SIGTERM', onStopSignal);
    process.on('SIGINT', onStopSignal);
  }
  exitCleanups.add(fn);
  return () => {
    exitCleanups.delete(fn);
    if (exitCleanups.size === 0) {
      process.off('exit', runExitCleanups);
      process.off('SIGTERM', onStopSignal);
      process.off('SIGINT', onStopSignal);
    }
  };
}

export interface NetnsLabOptions {
  /** Parent of the lab's temp dir (default os.tmpdir()); hosts that bind-mount over /tmp need one outside /tmp. */
  tmpRoot?: string;
}

export async function createNetnsLab(labOpts: NetnsLabOptions = {}): Promise<NetnsLab> {
  const run = randomBytes(2).toString('hex');
  const x = pickSubnet();
  const bridge = `nb${run}br`;
  const base = mkdtempSync(join(labOpts.tmpRoot ?? tmpdir(), `nb-netns-${run}-`));
  const hosts: NetnsHost[] = [];
  const namespaces: string[] = [];
  mkdirSync('/run/sshd', { recursive: true });
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `10.231.${x}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');

  let torn = false;
  const sshds = new Set<ChildProcess>();
  /** Everything this lab started, synchronously; the end of teardown() and the exit cleanup. */
  const removeAll = () => {
    for (const c of sshds) tryRun(() => c.kill('SIGKILL'));
    // Sessions that outlived their sshd (a background `sleep; reboot`, a hung command) keep a
    // namespace alive: they are this lab's processes, so end them too.
    for (const ns of namespaces) for (const pid of netnsPids(ns)) tryRun(() => process.kill(pid, 'SIGKILL'));
    for (const ns of namespaces) tryRun(() => ip('netns', 'del', ns));
    tryRun(() => ip('link', 'del', bridge));
    rmSync(base, { recursive: true, force: true });
  };
  const cancelExitCleanup = cleanupOnExit(removeAll);
  const lab: NetnsLab = {
    subnet: `10.231.${x}.0/24`,
    gateway: `10.231.${x}.1`,
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
      opts.setup?.(ns);

      const clientKeyPath = join(dir, 'client_ed25519');
      keygen(clientKeyPath, 'netns-test');
      copyFileSync(`${clientKeyPath}.pub`, join(dir, 'authorized_keys'));
      let hostKeyPath = opts.hostKey?.file ?? join(dir, 'host_ed25519');
      /** Put this key (or a fresh one) at the fixed path sshd reads (opts.hostKey). */
      const installKey = (keyPath: string | undefined) => {
        rmSync(hostKeyPath, { force: true });
        rmSync(`${hostKeyPath}.pub`, { force: true });
        if (keyPath) {
          copyFileSync(keyPath, hostKeyPath);
          copyFileSync(`${keyPath}.pub`, `${hostKeyPath}.pub`);
        } else keygen(hostKeyPath, 'netns-test');
      };
      if (opts.hostKeyPath || !existsSync(hostKeyPath)) installKey(opts.hostKeyPath);
      let port = opts.port ?? 22;
      let extraConfig = opts.sshdConfig ?? [];
      const knownHostsPath = join(dir, 'known_hosts');
      const mountScript = join(dir, 'start.sh');
      writeFileSync(mountScript, buildMountScript(opts.mounts ?? [], opts.hostname));

      let child: ChildProcess | undefined;
      const launch = async () => {
        const setEnv = [
          ...(opts.shimDir ? [`PATH=${opts.shimDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`] : []),
          ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
        ];
        writeFileSync(join(dir, 'sshd_config'), [
          ...extraConfig,
          ...(opts.portFromConfig ? [] : [`Port ${port}`]), `ListenAddress ${opts.listenAddress ?? hostIp}`, `HostKey ${opts.hostKey?.inside ?? hostKeyPath}`, `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${opts.authorizedKeysFile ?? join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password',
          'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
          ...(setEnv.length ? [`SetEnv ${setEnv.join(' ')}`] : []),
        ].join('\n') + '\n');
        const pub = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
        writeFileSync(knownHostsPath, `${port === 22 ? hostIp : `[${hostIp}]:${port}`} ${pub}\n`);
        // ip netns exec → unshare (private mounts + own hostname) → sh (mounts) → exec sshd: one pid.
        const c = spawn('ip', ['netns', 'exec', ns, 'unshare', '-m', '-u', '--propagation', 'private', 'sh', mountScript, join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
        child = c;
        sshds.add(c);
        c.once('exit', () => sshds.delete(c));
        c.stderr!.on('data', (b: Buffer) => { try { appendFileSync(join(dir, 'sshd.log'), b); } catch { /* dir removed at teardown */ } });
        await waitListening(c);
      };
      const kill = async () => {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        await new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGTERM'); });
      };
      await launch();
      const host: NetnsHost = {
        ns, ip: hostIp, dir, clientKeyPath, knownHostsPath,
        get port() { return port; },
        get running() { return !!child && child.exitCode === null && child.signalCode === null; },
        get hostKeyPath() { return hostKeyPath; },
        get fingerprint() { return fingerprintOfPub(readFileSync(`${hostKeyPath}.pub`, 'utf8')); },
        target: `root@${hostIp}`,
        sshArgv: () => ['ssh', ...(port === 22 ? [] : ['-p', String(port)]), '-i', clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHostsPath}`,
          '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', `root@${hostIp}`],
        async restartWithHostKey(keyPath?: string) {
          await host.restart({ hostKey: keyPath ?? 'fresh' });
        },
        async restart(r: RestartOptions = {}) {
          await kill();
          if (r.downMs) await new Promise((res) => setTimeout(res, r.downMs));
          const key = r.hostKey ?? 'keep';
          if (key !== 'keep') {
            const keyPath = key === 'fresh' ? undefined : key;
            if (opts.hostKey) installKey(keyPath);
            else {
              hostKeyPath = nextHostKey(dir, keyPath);
            }
          }
          if (r.port !== undefined) port = r.port;
          if (r.sshdConfig) extraConfig = r.sshdConfig;
          await r.beforeStart?.();
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
      removeAll();
      cancelExitCleanup();
    },
  };
  return lab;
}

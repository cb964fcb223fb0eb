/**
 * A real OpenSSH sshd on 127.0.0.1 with its own host key (shared/test-infra.md §2).
 * `startSshd()` resolves once sshd listens; `stop()` kills it and removes its directory.
 * Options let a test put shims first on the login PATH and swap the host key between runs.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { makeTempDir } from './tmp.js';

export interface Sshd {
  dir: string;
  port: number;
  host: string;
  hostKeyPath: string;
  /** SHA256:… of the host key, as ssh-keygen -lf prints it. */
  fingerprint: string;
  clientKeyPath: string;
  knownHostsPath: string;
  target: string; // root@127.0.0.1:PORT
  /** Restart sshd on the same port with another host key (a new file, or a fresh one). */
  restartWithHostKey(keyPath?: string): Promise<void>;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Directories put first on PATH of every login (fake commands). */
  shimDirs?: string[];
  extraConfig?: string[];
  hostKeyPath?: string;
}

export function fingerprintOfPub(pubLine: string): string {
  const blob = Buffer.from(pubLine.trim().split(/\s+/)[1]!, 'base64');
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A new host key file in `dir`: a copy of `keyPath` (its .pub beside it), or a fresh one. */
export function nextHostKey(dir: string, keyPath?: string): string {
  const next = join(dir, `host_ed25519_${Date.now()}`);
  if (keyPath) {
    copyFileSync(keyPath, next);
    copyFileSync(`${keyPath}.pub`, `${next}.pub`);
  } else keygen(next);
  return next;
}

export function keygen(path: string, comment = 'test'): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

/** Resolves once sshd (-D -e) says it listens; rejects when it exits first or after 10 s. */
export function waitListening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`sshd did not start: ${err.trim()}`)), 10_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (/Server listening on/.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited ${code}: ${err.trim()}`));
    });
  });
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'nb-sshd-'));
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  const clientKeyPath = join(dir, 'client_ed25519');
  keygen(clientKeyPath);
  copyFileSync(`${clientKeyPath}.pub`, join(dir, 'authorized_keys'));
  let hostKeyPath = join(dir, 'host_ed25519');
  if (opts.hostKeyPath) {
    copyFileSync(opts.hostKeyPath, hostKeyPath);
    copyFileSync(`${opts.hostKeyPath}.pub`, `${hostKeyPath}.pub`);
  }
  else keygen(hostKeyPath);

  let child: ChildProcess | undefined;
  let port = 0;
  const user = process.env.USER === 'root' || process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'root');

  const writeConfig = () => {
    const lines = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      ...(opts.shimDirs?.length ? [`SetEnv PATH=${opts.shimDirs.join(':')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`] : []),
      ...(opts.extraConfig ?? []),
    ];
    writeFileSync(join(dir, 'sshd_config'), lines.join('\n') + '\n');
  };

  const launch = async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      port = port || (await freePort());
      writeConfig();
      child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      try {
        await waitListening(child);
        return;
      } catch (e) {
        if (attempt === 4) throw e;
        port = 0; // port race: pick another
      }
    }
  };

  const writeKnownHosts = () => {
    const pub = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${pub}\n`);
  };

  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const c = child;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGTERM');
    });
  };

  await launch();
  writeKnownHosts();
  const sshd: Sshd = {
    dir,
    host: '127.0.0.1',
    get port() { return port; },
    get hostKeyPath() { return hostKeyPath; },
    get fingerprint() { return fingerprintOfPub(readFileSync(`${hostKeyPath}.pub`, 'utf8')); },
    clientKeyPath,
    knownHostsPath: join(dir, 'known_hosts'),
    get target() { return `${user}@127.0.0.1:${port}`; },
    async restartWithHostKey(keyPath?: string) {
      await kill();
      hostKeyPath = nextHostKey(dir, keyPath);
      const keepPort = port;
      port = keepPort;
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sshd;
}

export interface SshdLab {
  /** The running sshd (valid inside the file's tests). */
  readonly sshd: Sshd;
  /** A temporary directory for the file's tests. */
  readonly dir: string;
}

/**
 * One sshd and one temporary directory for a whole test file: started before its first test,
 * both removed after its last, also when a test, or the start itself, fails. `setup` runs once
 * both are there (root-level before() hooks of one file are not ordered after this one's).
 */
export function useSshdLab(tmpPrefix: string, opts: SshdOptions & { setup?: (dir: string) => Promise<void> } = {}): SshdLab {
  let sshd: Sshd | undefined;
  let tmp: { dir: string; cleanup: () => Promise<void> } | undefined;
  before(async () => {
    tmp = await makeTempDir(tmpPrefix);
    sshd = await startSshd(opts);
    await opts.setup?.(tmp.dir);
  });
  after(async () => {
    await sshd?.stop();
    await tmp?.cleanup();
  });
  return {
    get sshd() { return sshd ?? notStarted(); },
    get dir() { return tmp?.dir ?? notStarted(); },
  };
}

function notStarted(): never {
  throw new Error('the sshd lab is not started: use it inside a test');
}

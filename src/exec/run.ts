/**
 * The one subprocess door. Every ssh, nix, nixos-anywhere, restic, age or sops call goes through
 * `runCommand` with an argv array (never a shell string). Failures raise CommandFailed carrying
 * argv, exit code and a redacted stderr tail.
 *
 * Why not zx (issue 14): zx runs every command through `$.shell` (bash -c with a `set -euo
 * pipefail;` prefix), so argv would become a quoted shell string, and its kill walks the process
 * tree with `ps`. This runner spawns argv directly and stops the installer's whole process group
 * (setsid-style `detached`), which is what the phase timeouts and the kill -9 recovery rely on.
 */
import { spawn } from 'node:child_process';
import { BootstrapError, failure, isBootstrapError } from '../errors.js';
import { redact } from '../redact.js';

export interface RunOptions {
  cwd?: string;
  /** Extra environment, merged over process.env (or over nothing with `cleanEnv`). */
  env?: Record<string, string | undefined>;
  cleanEnv?: boolean;
  input?: string | Uint8Array;
  timeoutMs?: number;
  /** Called with each complete output line, for progress displays and logs. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Throw CommandFailed on a non-zero exit (default true). */
  check?: boolean;
  /** Signal to stop the child (SIGINT handling). */
  signal?: AbortSignal;
  /**
   * Run the child in its own process group and stop the whole group (SIGTERM, then SIGKILL after
   * `killGraceMs`) on abort or timeout: nixos-anywhere's ssh, nix and sleep loops die with it.
   */
  group?: boolean;
  killGraceMs?: number;
  /** Called with the child's pid once it runs (with `group`, also its process group id). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  argv: readonly string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type Runner = (argv: readonly string[], opts?: RunOptions) => Promise<RunResult>;

export class CommandFailed extends BootstrapError {
  readonly result: RunResult;
  constructor(result: RunResult, hint?: string) {
    const tail = redact(result.stderr.trim().split('\n').slice(-3).join(' | ')).slice(0, 400);
    const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`;
    super('failure', 'command-failed', `${result.argv[0]} ${how}${tail ? `: ${tail}` : ''}`, { hint });
    this.result = result;
  }
}

/** Tools we know how to install, for the "missing tool" hint. */
const INSTALL_HINTS: Record<string, string> = {
  ssh: 'install OpenSSH (Debian: apt-get install openssh-client)',
  'ssh-keygen': 'install OpenSSH (Debian: apt-get install openssh-client)',
  age: 'install age (Debian: apt-get install age; Nix: nix profile install nixpkgs#age)',
  restic: 'install restic (Debian: apt-get install restic)',
  sops: 'install sops (nix profile install nixpkgs#sops)',
  nix: 'install Nix (https://nixos.org/download)',
  'nix-instantiate': 'install Nix (Debian: apt-get install nix-bin)',
  'nixos-anywhere': 'install nixos-anywhere, or install Nix so it can run through `nix run`',
};

export const runCommand: Runner = (argv, opts = {}) => {
  if (argv.length === 0 || !argv[0]) throw new Error('runCommand: empty argv');
  const [cmd, ...args] = argv as [string, ...string[]];
  const started = Date.now();
  const env = opts.cleanEnv ? { ...opts.env } : { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];

  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.group ? { detached: true } : { signal: opts.signal }),
    });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* the group is gone already */
      }
    };
    const stopGroup = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup('SIGTERM');
      killTimer ??= setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs ?? 5_000);
    };
    const onAbort = () => {
      aborted = true;
      stopGroup();
    };
    if (opts.group && opts.signal) {
      if (opts.signal.aborted) queueMicrotask(onAbort);
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const partial = { stdout: '', stderr: '' };
    const feed = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
      (stream === 'stdout' ? out : err).push(chunk);
      if (!opts.onLine) return;
      const text = partial[stream] + chunk.toString('utf8');
      const lines = text.split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line, stream);
    };
    child.stdout.on('data', (c: Buffer) => feed('stdout', c));
    child.stderr.on('data', (c: Buffer) => feed('stderr', c));
    child.stdin.on('error', () => {}); // the child may exit before reading all of stdin

    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => (opts.group ? stopGroup() : child.kill('SIGTERM')), opts.timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (e: NodeJS.ErrnoException) => {
      settle();
      if (e.code === 'ENOENT') {
        reject(failure('missing-tool', `${cmd} was not found on PATH`, INSTALL_HINTS[cmd] ?? `install ${cmd}`, e));
      } else if (e.name === 'AbortError') {
        reject(failure('interrupted', `${cmd} was interrupted`, undefined, e));
      } else {
        reject(failure('spawn-failed', `could not start ${cmd}: ${e.message}`, undefined, e));
      }
    });
    child.on('close', (code, signal) => {
      settle();
      if (opts.group) signalGroup('SIGTERM'); // leftovers of the group (a background sleep) go with it
      if (opts.onLine) {
        if (partial.stdout) opts.onLine(partial.stdout, 'stdout');
        if (partial.stderr) opts.onLine(partial.stderr, 'stderr');
      }
      const result: RunResult = {
        argv,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Date.now() - started,
      };
      if (aborted) reject(isBootstrapError(opts.signal?.reason) ? opts.signal.reason : failure('interrupted', `${cmd} was interrupted`));
      else if (opts.check !== false && code !== 0) reject(new CommandFailed(result));
      else resolve(result);
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
};

/**
 * One nixos-anywhere call for every phase that is left, watched phase by phase. The script's
 * `### … ###` lines tell which phase it is in; each phase has its own deadline; the ssh guard's
 * records stop it on a host key that is not pinned. Each journaled step (kexec, disko, install,
 * reboot) waits for its phase here, so --resume still continues at the phase that failed, and
 * the script still switches user and port after kexec itself (it only does that within a call).
 *
 * Stopping means the whole process group: the script's ssh loops and sleeps go with it.
 */
import type { Task } from '../ports/output.js';
import type { Runner } from '../exec/run.js';
import { CommandFailed } from '../exec/run.js';
import { failure, isBootstrapError } from '../errors.js';
import type { Phase } from '../nix/nixos-anywhere.js';
import type { InstallLog } from './run-phases.js';
import { parseStepLine, PhaseFailed } from './run-phases.js';
import type { GuardEvent, GuardTransfer } from './ssh-guard.js';
import { attributeTransfers, type PhaseTransfer } from './transfer.js';

// The phase table (ids, titles, default limits) and the --phase-timeout parser live in nix/phases.ts.
export { DEFAULT_PHASE_TIMEOUTS_MS, parsePhaseTimeouts } from '../nix/phases.js';

/** Which phase a `### … ###` line of nixos-anywhere.sh belongs to. Pure. */
export function phaseOfStep(step: string): Phase | 'done' | undefined {
  if (step === 'Switching system into kexec') return 'kexec';
  if (step === 'Building disko script' || step === 'Formatting hard drive with disko' || /^Uploading .+ to \//.test(step)) return 'disko';
  if (['Uploading the system closure', 'Building the system closure', 'Copying extra files', 'Installing NixOS'].includes(step)) return 'install';
  if (step === 'Rebooting' || step.startsWith('Waiting for the machine to become unreachable')) return 'reboot';
  if (step === 'Done!') return 'done';
  return undefined; // Uploading install SSH keys, Gathering machine facts, Generating …
}

export interface WaitFacts {
  user: string;
  host: string;
  port: number;
  postKexecPort: number;
}

/** What the script is waiting for after `step`, for the progress line. Pure. */
export function describeWait(step: string | undefined, w: WaitFacts): string {
  if (step === undefined || step === 'Uploading install SSH keys') return `logging in to ${w.user}@${w.host} on port ${w.port}`;
  if (step === 'Gathering machine facts') return 'reading the facts of the target';
  if (step === 'Switching system into kexec') return `booting the installer; waiting for SSH on ${w.host}:${w.postKexecPort} after kexec`;
  if (/^Uploading .+ to \/root\/\.config\/nix\//.test(step)) return "uploading the binary cache settings for the installer's nix";
  if (/^Uploading .+ to \//.test(step)) return 'uploading the disk encryption key';
  if (step === 'Formatting hard drive with disko') return 'formatting the disk';
  if (step === 'Uploading the system closure') return 'uploading the system closure';
  if (step.startsWith('Building')) return 'building on the target';
  if (step === 'Copying extra files') return "copying the host's keys";
  if (step === 'Installing NixOS') return 'installing NixOS';
  if (step === 'Rebooting' || step.startsWith('Waiting for the machine')) return `waiting for ${w.host} to go down for the reboot`;
  return step;
}

/** The likely cause of a phase that ran out of time, as a hint. Pure. */
export function buildTimeoutHint(phase: Phase, step: string | undefined, w: WaitFacts): string {
  const longer = `or give it longer with --phase-timeout ${phase}=DURATION; then run again with --resume`;
  if (step === undefined || step === 'Uploading install SSH keys') {
    return `the login as ${w.user} on port ${w.port} did not succeed: check the port, the user and the key (-i) or the password (--password-env), ${longer}`;
  }
  if (step === 'Switching system into kexec' || step === 'Gathering machine facts') {
    return `the installer did not answer on port ${w.postKexecPort} after kexec: look at the console (kexec may have failed or memory is short); if it listens elsewhere pass --post-kexec-port, ${longer}`;
  }
  if (step.startsWith('Waiting for the machine')) return `the machine did not go down for the reboot: look at the console, ${longer}`;
  return `look at the log, ${longer}`;
}

/** `SSH lines worth quoting when a wait ends badly. */
const SSH_TROUBLE_RE = /Connection refused|Connection timed out|No route to host|Permission denied|Could not resolve|Connection closed|port \d+: /;

export interface SessionPorts {
  run: Runner;
  signal: AbortSignal;
  debug(text: string): void;
}

export interface SessionOptions {
  argv: string[];
  env: Record<string, string | undefined>;
  phases: readonly Phase[];
  timeoutsMs: Record<Phase, number>;
  wait: WaitFacts;
  log: InstallLog;
  /** The guard's records (host keys that were not pinned). */
  guardEvents(): Promise<GuardEvent[]>;
  /** The guard's byte counts of the connections that ended (issue 20); none when not given. */
  guardTransfers?(): Promise<GuardTransfer[]>;
  /** The pinned fingerprints, to name in a mismatch. */
  pinned: readonly string[];
  guardPollMs?: number;
  /** Told the installer's pid (= its process group) once it runs: the host lock records it. */
  onStarted?: (pgid: number) => void;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {}); // a phase nobody waits for (the run stopped earlier) must not crash the process
  return { promise, resolve, reject };
}

export class InstallerSession {
  private readonly done = new Map<Phase, Deferred>();
  private current = 0;
  private lastStep: string | undefined;
  private lastTrouble: string | undefined;
  private phaseStarted = Date.now();
  /** When each phase of this call began (for the byte counts per phase). */
  private readonly starts: { phase: Phase; atMs: number }[] = [];
  private readonly stop = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private progress: Task | undefined;

  constructor(private readonly ports: SessionPorts, private readonly o: SessionOptions) {
    for (const p of o.phases) this.done.set(p, deferred());
  }

  /** Start the call (once). */
  start(): void {
    const { o } = this;
    const onAbort = () => this.abort(this.ports.signal.reason ?? failure('interrupted', 'interrupted'));
    this.ports.signal.addEventListener('abort', onAbort, { once: true });
    const poll = setInterval(() => void this.checkGuard(), this.o.guardPollMs ?? 250);
    this.enterPhase(0);
    o.log.write(`# nixos-anywhere for phases ${o.phases.join(',')}`);
    o.log.write(`$ ${o.argv.map((a) => (/[\s"'$`\\]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
    const ticker = setInterval(() => this.showWait(), 5_000);
    void this.ports
      .run(o.argv, { env: o.env, group: true, signal: this.stop.signal, onLine: (l, s) => this.onLine(l, s), ...(o.onStarted ? { onSpawn: o.onStarted } : {}) })
      .then(
        async (res) => {
          await this.checkGuard();
          o.log.write(`# nixos-anywhere finished in ${(res.durationMs / 1000).toFixed(1)}s`);
          for (const d of this.done.values()) d.resolve();
        },
        async (e: unknown) => {
          await this.checkGuard();
          const phase = o.phases[Math.min(this.current, o.phases.length - 1)]!;
          const err = this.stop.signal.aborted && isBootstrapError(this.stop.signal.reason) ? this.stop.signal.reason : e instanceof CommandFailed ? new PhaseFailed(e, phase, this.lastStep, o.log.path) : e;
          o.log.write(`# nixos-anywhere stopped in phase ${phase}: ${err instanceof Error ? err.message : String(err)}`);
          for (const d of this.done.values()) d.reject(err);
        },
      )
      .finally(() => {
        clearInterval(poll);
        clearInterval(ticker);
        clearTimeout(this.timer);
        this.ports.signal.removeEventListener('abort', onAbort);
      });
  }

  /** Resolves when `phase` is over (the script moved on or finished). */
  async phase(phase: Phase, progress: Task): Promise<void> {
    const d = this.done.get(phase);
    if (!d) throw new Error(`phase ${phase} is not part of this installer call`);
    this.progress = progress;
    this.showWait();
    await d.promise;
  }

  /** What the operator sent in `phase` (connections that ended in it), once the phase is over. */
  async transfer(phase: Phase): Promise<PhaseTransfer> {
    const all = attributeTransfers((await this.o.guardTransfers?.()) ?? [], this.starts);
    return all[phase] ?? { sent: 0, received: 0, connections: 0 };
  }

  private abort(reason: unknown): void {
    if (!this.stop.signal.aborted) this.stop.abort(reason);
  }

  private enterPhase(index: number): void {
    this.current = index;
    this.phaseStarted = Date.now();
    clearTimeout(this.timer);
    const phase = this.o.phases[index];
    if (!phase) return;
    this.starts.push({ phase, atMs: this.phaseStarted });
    const ms = this.o.timeoutsMs[phase];
    this.timer = setTimeout(() => {
      const what = describeWait(this.lastStep, this.o.wait);
      const seen = this.lastTrouble ? ` (last: ${this.lastTrouble})` : '';
      this.o.log.write(`# phase ${phase} timed out after ${Math.round(ms / 1000)}s while ${what}`);
      this.abort(failure('phase-timeout', `phase ${phase} ran out of time (${formatDuration(ms)}) while ${what}${seen}`, buildTimeoutHint(phase, this.lastStep, this.o.wait)));
    }, ms);
  }

  private showWait(): void {
    const phase = this.o.phases[this.current];
    if (!phase || !this.progress) return;
    const left = this.o.timeoutsMs[phase] - (Date.now() - this.phaseStarted);
    this.progress.update(`${describeWait(this.lastStep, this.o.wait)}, ${formatDuration(Math.max(0, left))} left`);
  }

  private onLine(line: string, stream: 'stdout' | 'stderr'): void {
    this.o.log.write(stream === 'stderr' ? `! ${line}` : line);
    if (stream === 'stderr' && SSH_TROUBLE_RE.test(line)) this.lastTrouble = line.trim().slice(0, 200);
    const step = parseStepLine(line);
    if (!step) {
      if (line.trim()) this.ports.debug(`nixos-anywhere: ${line}`);
      return;
    }
    this.ports.debug(`nixos-anywhere: ${step}`);
    this.lastStep = step;
    this.lastTrouble = undefined;
    const to = phaseOfStep(step);
    const index = to === 'done' ? this.o.phases.length : to === undefined ? -1 : this.o.phases.indexOf(to);
    if (index > this.current) {
      for (let i = this.current; i < index; i++) this.done.get(this.o.phases[i]!)!.resolve();
      this.enterPhase(index);
    }
    this.showWait();
  }

  private async checkGuard(): Promise<void> {
    const events = await this.o.guardEvents();
    const bad = events[0];
    if (!bad || this.stop.signal.aborted) return;
    const phase = this.o.phases[Math.min(this.current, this.o.phases.length - 1)]!;
    const presented = bad.presented ? `presents ${bad.presented}` : 'presents a key';
    this.o.log.write(`# host key not pinned: ${presented}; stopping in phase ${phase}`);
    this.abort(
      failure(
        'host-key-changed',
        `${this.o.wait.host} ${presented}, not the pinned ${this.o.pinned.join(' or ')} (phase ${phase}); the installer was stopped before sending anything over that connection`,
        'if the machine was reinstalled or its installer has a new key, check the fingerprint on its console and pin it with `bootstrap probe` (--host-key), then run again with --resume; otherwise someone may be intercepting the connection',
      ),
    );
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}


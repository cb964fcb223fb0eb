/**
 * Run nixos-anywhere one phase at a time (kexec, disko, install, reboot), so the user sees where
 * it is and a failure names its phase. The tool's `### … ###` lines become task progress; all of
 * its output, through the redactor, goes to <flake>/.bootstrap/logs/HOST-TIME.log (0600).
 */
import { chmodSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Output, Task } from '../cli/ui.js';
import type { Clock } from '../context.js';
import type { Runner } from '../exec/run.js';
import { CommandFailed } from '../exec/run.js';
import { buildPhaseArgv, type NixosAnywhereCommand, type NixosAnywhereOptions, type Phase } from '../nix/nixos-anywhere.js';
import { redact } from '../redact.js';

export const PHASE_TITLES: Record<Phase, string> = {
  kexec: 'Boot the NixOS installer (kexec)',
  disko: 'Partition and format the disk (disko)',
  install: 'Install NixOS',
  reboot: 'Reboot into the new system',
};

export interface InstallLog {
  path: string;
  write(line: string): void;
  close(): void;
}

/** <flake>/.bootstrap/logs/HOST-2026-07-22T07-18-28Z.log */
export function buildLogPath(flakeDir: string, host: string, now: Date, stateDir = '.bootstrap'): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return join(flakeDir, stateDir, 'logs', `${host}-${stamp}.log`);
}

/** Open (append) a 0600 log; every line is redacted on the way in. */
export function openInstallLog(path: string): InstallLog {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  chmodSync(path, 0o600); // an existing file keeps its old mode otherwise
  let open = true;
  return {
    path,
    write: (line) => {
      if (open) writeSync(fd, redact(line) + '\n');
    },
    close: () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** "### Formatting hard drive with disko ###" → "Formatting hard drive with disko". */
export function parseStepLine(line: string): string | undefined {
  const m = /^### (.+?) ###\s*$/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
  return m?.[1];
}

/** A phase that failed: CommandFailed whose message names the phase and the tool's last step. */
export class PhaseFailed extends CommandFailed {
  readonly phase: Phase;
  readonly lastStep: string | undefined;
  constructor(cause: CommandFailed, phase: Phase, lastStep: string | undefined, logPath: string) {
    super(cause.result, `read the full output in ${logPath}; fix the cause, then run again with --resume to continue at this phase`);
    this.phase = phase;
    this.lastStep = lastStep;
    this.message = `nixos-anywhere failed in phase ${phase}${lastStep ? ` at "${lastStep}"` : ''}: ${cause.message}`;
  }
}

export interface PhasePorts {
  run: Runner;
  out: Output;
  signal: AbortSignal;
  clock: Clock;
}

export interface PhaseRun {
  command: NixosAnywhereCommand;
  options: NixosAnywhereOptions;
  log: InstallLog;
  /** Extra environment for the tool (tests put the fake's switches here). */
  env?: Record<string, string | undefined>;
}

/**
 * Run one phase. `progress` is the caller's task line (a journaled step); the tool's step lines
 * update it. Returns the step lines seen.
 * @throws PhaseFailed (a CommandFailed) when the tool exits non-zero; failure 'interrupted' on abort
 */
export async function runInstallPhase(ports: PhasePorts, phase: Phase, run: PhaseRun, progress?: Task): Promise<string[]> {
  const argv = buildPhaseArgv(run.command.prefix, run.options, phase);
  const steps: string[] = [];
  run.log.write(`# phase ${phase} — ${ports.clock.now().toISOString()}`);
  run.log.write(`$ ${argv.map((a) => (/[\s"'$`\\]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const onLine = (line: string, stream: 'stdout' | 'stderr') => {
    run.log.write(stream === 'stderr' ? `! ${line}` : line);
    const step = parseStepLine(line);
    if (step) {
      steps.push(step);
      progress?.update(step);
      ports.out.debug(`nixos-anywhere: ${step}`);
    } else if (line.trim()) {
      ports.out.debug(`nixos-anywhere: ${line}`);
    }
  };
  try {
    const res = await ports.run(argv, { onLine, signal: ports.signal, ...(run.env ? { env: run.env } : {}) });
    run.log.write(`# phase ${phase} finished in ${(res.durationMs / 1000).toFixed(1)}s`);
    return steps;
  } catch (e) {
    run.log.write(`# phase ${phase} failed: ${e instanceof Error ? e.message : String(e)}`);
    if (e instanceof CommandFailed) throw new PhaseFailed(e, phase, steps.at(-1), run.log.path);
    throw e;
  }
}

/**
 * Run several phases in order, each as its own task line. For callers that do not journal phases
 * as separate steps; the install workflow runs runInstallPhase from one step per phase.
 */
export async function runInstallPhases(ports: PhasePorts, phases: readonly Phase[], run: PhaseRun): Promise<void> {
  for (const phase of phases) {
    const task = ports.out.task(PHASE_TITLES[phase]);
    try {
      await runInstallPhase(ports, phase, run, task);
      task.done();
    } catch (e) {
      task.fail(e instanceof PhaseFailed && e.lastStep ? e.lastStep : undefined);
      throw e;
    }
  }
}

/**
 * The installer's log and its phase vocabulary: all of nixos-anywhere's output, through the
 * redactor, goes to <flake>/.bootstrap/logs/HOST-TIME.log (0600); its `### … ###` lines name the
 * step it is at; a failure names its phase (installer-session.ts runs the call).
 */
import { chmodSync, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { CommandFailed } from '../exec/run.js';
import type { Phase } from '../nix/nixos-anywhere.js';
import { redact } from '../redact.js';
import { statePaths } from '../config/state-paths.js';

export interface InstallLog {
  path: string;
  write(line: string): void;
  close(): void;
}

/** <flake>/.bootstrap/logs/HOST-2026-07-22T07-18-28Z.log */
export function buildLogPath(flakeDir: string, host: string, now: Date, stateDir?: string): string {
  return statePaths(flakeDir, stateDir).installLog(host, now);
}

/**
 * A 0600 log, opened (append) on its first line: a run that stops before the installer (refused by
 * the host lock, a failed preflight) leaves no empty file. Every line is redacted on the way in.
 */
export function openInstallLog(path: string): InstallLog {
  let fd: number | undefined;
  let closed = false;
  return {
    path,
    write: (line) => {
      if (closed) return;
      if (fd === undefined) {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        fd = openSync(path, 'a', 0o600);
        chmodSync(path, 0o600); // an existing file keeps its old mode otherwise
      }
      writeSync(fd, redact(line) + '\n');
    },
    close: () => {
      closed = true;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** "### Formatting hard drive with disko ###" → "Formatting hard drive with disko". */
export function parseStepLine(line: string): string | undefined {
  const m = /^### (.+?) ###\s*$/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
  return m?.[1];
}

/** What the target printed when it could not download upstream's kexec image (curl, wget, busybox wget). */
const KEXEC_DOWNLOAD_FAILED = /curl: \((5|6|7|28|35|56)\)|Failed to connect to (github\.com|gh-v6\.com)|Could not resolve host|unable to resolve host address|Network is unreachable|wget: (bad address|download timed out|can't connect)|Connection timed out/i;
const KEXEC_IMAGE_REFUSED = /nixos-bootstrap: the kexec image \S+ has sha256 [0-9a-f]{64}, not the pinned [0-9a-f]{64}/;

/**
 * A hint for a kexec phase that failed on the image (issue 20): a download the target could not
 * make (a firewall the probe's route check cannot see), or the verifying kexec/run refusing an
 * image changed on the target since preflight. Pure.
 */
export function explainKexecFailure(output: string): string | undefined {
  if (KEXEC_IMAGE_REFUSED.test(output)) return 'the kexec image on the target changed after preflight checked it and was refused before booting; run again with --resume (it is downloaded and checked again)';
  if (KEXEC_DOWNLOAD_FAILED.test(output)) return 'the target could not download the kexec image (no route to GitHub, a firewall or a proxy): give it another way with --kexec-image FILE --kexec-sha256 HEX (uploaded from here), --kexec-url URL --kexec-sha256 HEX or --kexec-from cache --kexec-sha256 HEX';
  return undefined;
}

/** A phase that failed: CommandFailed whose message names the phase and the tool's last step. */
export class PhaseFailed extends CommandFailed {
  readonly phase: Phase;
  readonly lastStep: string | undefined;
  constructor(cause: CommandFailed, phase: Phase, lastStep: string | undefined, logPath: string) {
    const kexec = phase === 'kexec' ? explainKexecFailure(`${cause.result.stdout}\n${cause.result.stderr}`) : undefined;
    super(cause.result, `${kexec ? `${kexec}; ` : ''}read the full output in ${logPath}; fix the cause, then run again with --resume to continue at this phase`);
    this.phase = phase;
    this.lastStep = lastStep;
    this.message = `nixos-anywhere failed in phase ${phase}${lastStep ? ` at "${lastStep}"` : ''}: ${cause.message}`;
  }
}

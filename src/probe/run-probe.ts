/**
 * Probe a target: one SSH connection, one exec channel running PROBE_COMMAND with the probe
 * script on stdin, the output parsed and validated into a HardwareReport. The plan command and
 * the install wizard call this; `bootstrap probe` is a thin wrapper around it.
 */
import type { AppContext } from '../context.js';
import { failure, isBootstrapError, messageOf } from '../errors.js';
import { withSession, type ExecResult, type SshOptions } from '../ssh/session.js';
import { formatTarget, type SshTarget } from '../ssh/target.js';
import type { HardwareReport } from './report.js';
import { parseProbeOutput } from './parse.js';
import { loadProbeScript, PROBE_COMMAND } from './script.js';

/** Exit status of the guard below; chosen to collide with nothing a shell uses. */
const NOT_LINUX_EXIT = 93;
const NOT_LINUX_MARK = '@@nb-not-linux';

/**
 * Sent on stdin ahead of the probe script: stop before anything else runs when the target is not
 * Linux (a BSD rescue system, macOS), so the user gets that one clear answer.
 */
export const LINUX_GUARD =
  `case "$(uname -s 2>/dev/null)" in Linux) ;; *) printf '${NOT_LINUX_MARK} %s\\n' "$(uname -s 2>/dev/null || echo unknown)" >&2; exit ${NOT_LINUX_EXIT} ;; esac\n`;

export interface ProbeOptions extends SshOptions {
  /** Give up on the probe command after this long (default 180 s; nixos-facter can be slow). */
  execTimeoutMs?: number;
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
}

/** Classify what came back from the probe channel; parse it when it is a probe's output. Pure. */
export function parseProbeResult(target: SshTarget, r: ExecResult): HardwareReport {
  const who = formatTarget(target);
  if (r.code === NOT_LINUX_EXIT && r.stderr.includes(NOT_LINUX_MARK)) {
    const os = r.stderr.split(NOT_LINUX_MARK)[1]!.trim().split('\n')[0] || 'unknown';
    throw failure('not-linux', `${who} runs ${os}, not Linux`, 'boot the machine into a Linux rescue system or the NixOS installer, then probe again');
  }
  if (r.code !== 0) {
    const why = r.code === null ? `was stopped${r.signal ? ` by ${r.signal}` : ''}` : `exited with ${r.code}`;
    const hint = r.code === 127 ? 'the target has no POSIX sh on PATH for this user' : 'run again with --debug, or log in and run `sh -s < probe.sh` by hand';
    throw failure('probe-failed', `the probe script on ${who} ${why}${r.stderr.trim() ? `: ${tail(r.stderr)}` : ''}`, hint);
  }
  try {
    return parseProbeOutput(r.stdout);
  } catch (e) {
    if (isBootstrapError(e)) throw e;
    throw failure('probe-invalid', `the probe output of ${who} could not be read: ${messageOf(e).split('\n')[0]}`, 'run again with --debug and report it, with the target\'s OS', e);
  }
}

/**
 * Probe `target` over one connection and one exec channel. Throws BootstrapErrors: connection,
 * host key and login failures from the SSH layer, `not-linux`, `probe-failed`, `probe-invalid`.
 */
export async function runProbe(ctx: Pick<AppContext, 'out' | 'prompts' | 'env' | 'signal'>, target: SshTarget, opts: ProbeOptions): Promise<HardwareReport> {
  const script = LINUX_GUARD + loadProbeScript();
  const result = await withSession(ctx, target, opts, (s) => s.exec(PROBE_COMMAND, { stdin: script, timeoutMs: opts.execTimeoutMs ?? 180_000 }));
  ctx.out.debug(`probe: exit ${result.code}, ${result.stdout.length} bytes of output${result.stderr.trim() ? `, stderr: ${tail(result.stderr)}` : ''}`);
  return parseProbeResult(target, result);
}

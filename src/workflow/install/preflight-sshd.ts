/**
 * Preflight: the installed host's sshd, read from the evaluated config (issue 18). The host's
 * default.nix only suggests sshd settings (lib.mkDefault), so a user's module may change them: what
 * the install depends on, sshd running on the port the manifest's target names (the post-install
 * check, status and rebuild connect there), is checked here before the wipe instead.
 */
import { failure } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import { NIX_FLAKES } from '../../installer/build-first.js';
import type { Task } from '../../ports/output.js';
import type { InstallCtx } from './context.js';
import { buildNixFailure } from './preflight-nix.js';

/** What is read of services.openssh (the fake nix in test/fakes accepts exactly this apply). */
export const SSHD_APPLY = 'o: { enable = o.enable; ports = o.ports; }';

export interface EvaluatedSshd {
  enable: boolean;
  ports: number[];
}

/** argv: `{ "enable": true, "ports": [22] }` of the host's evaluated services.openssh. Pure. */
export function buildSshdArgv(flakeDir: string, host: string): string[] {
  return ['nix', ...NIX_FLAKES, 'eval', '--json', `${flakeDir}#nixosConfigurations."${host}".config.services.openssh`, '--apply', SSHD_APPLY];
}

/** nix's JSON → EvaluatedSshd; undefined when it is not that shape. Pure. */
export function parseEvaluatedSshd(stdout: string): EvaluatedSshd | undefined {
  try {
    const v = JSON.parse(stdout) as { enable?: unknown; ports?: unknown };
    if (typeof v.enable !== 'boolean' || !Array.isArray(v.ports) || !v.ports.every((p) => Number.isInteger(p))) return undefined;
    return { enable: v.enable, ports: v.ports as number[] };
  } catch {
    return undefined;
  }
}

/** Why the installed host would not answer ssh on `port`, or undefined when it would. Pure. */
export function checkSshd(host: string, sshd: EvaluatedSshd, port: number): { code: string; message: string; hint: string } | undefined {
  if (!sshd.enable) {
    return {
      code: 'sshd-disabled',
      message: `services.openssh.enable is false in nixosConfigurations.${host}: after the wipe nothing would answer ssh on port ${port}`,
      hint: 'set services.openssh.enable = true (or remove the module line that turns it off), then run again with --resume; nothing on the target was touched',
    };
  }
  if (!sshd.ports.includes(port)) {
    const on = sshd.ports.length ? `port${sshd.ports.length === 1 ? '' : 's'} ${sshd.ports.join(', ')}` : 'no port';
    return {
      code: 'sshd-port',
      message: `sshd of nixosConfigurations.${host} would listen on ${on}, not on port ${port} that the target names (the check after the install, status and rebuild connect there)`,
      hint: `add ${port} to services.openssh.ports, or give the target with the port sshd uses (e.g. --target root@HOST:${sshd.ports[0] ?? 22}); then run again with --resume; nothing on the target was touched`,
    };
  }
  return undefined;
}

/**
 * Refused unless --allow-no-login (the operator accepts a host reachable only on its console),
 * which turns the refusal into a warning.
 */
export async function runSshdCheck(c: Pick<InstallCtx, 'app' | 'flakeDir' | 'host' | 'signal' | 'loaded' | 'target' | 'answers' | 'out'>, progress: Task): Promise<void> {
  progress.update('checking sshd of the installed host');
  let sshd: EvaluatedSshd | undefined;
  try {
    sshd = parseEvaluatedSshd((await c.app.run(buildSshdArgv(c.flakeDir, c.host), { cwd: c.flakeDir, signal: c.signal, timeoutMs: 10 * 60_000 })).stdout);
  } catch (e) {
    if (!(e instanceof CommandFailed)) throw e;
    throw buildNixFailure(c, e, 'flake-eval-failed', `services.openssh of nixosConfigurations.${c.host} does not evaluate`, 'fix the configuration, then run again with --resume; nothing on the target was touched');
  }
  if (!sshd) throw failure('flake-eval-failed', `nix printed no sshd settings for nixosConfigurations.${c.host}`, 'run again with --debug to see its output');
  const problem = checkSshd(c.host, sshd, c.target.port);
  if (problem && c.answers.allowNoLogin) c.out.warn(`${problem.message} (--allow-no-login)`);
  else if (problem) throw failure(problem.code, problem.message, problem.hint);
}

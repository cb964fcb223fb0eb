/**
 * Preflight's lock-out guard (issue 21): evaluate the host's sshd, firewall and Tailscale options
 * (installer/lockout.ts ACCESS_APPLY) and refuse, before the wipe, a configuration that would shut
 * the operator out of the installed host, naming the option to change. `--allow-lockout` overrides
 * it; the override is returned as the step's journal detail, so the journal says who was warned.
 */
import type { Task } from '../../ports/output.js';
import { hostDir } from '../../config/host-dir.js';
import { failure, messageOf } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import { buildAccessFactsArgv, checkLockout, describeLockouts, parseAccessFacts, type AccessExpectation, type AccessFacts, type LockoutCheck } from '../../installer/lockout.js';
import type { InstallCtx } from './context.js';

type C = Pick<InstallCtx, 'app' | 'flakeDir' | 'host' | 'signal' | 'answers' | 'login' | 'loaded' | 'out' | 'target' | 'report'>;

/**
 * The host's access facts, evaluated (no build).
 * @throws failure 'flake-eval-failed' when nix cannot evaluate them
 */
export async function runEvalAccessFacts(c: Pick<C, 'app' | 'flakeDir' | 'host' | 'signal'>): Promise<AccessFacts> {
  let facts: AccessFacts | undefined;
  try {
    facts = parseAccessFacts((await c.app.run(buildAccessFactsArgv(c.flakeDir, c.host), { cwd: c.flakeDir, signal: c.signal, timeoutMs: 10 * 60_000 })).stdout);
  } catch (e) {
    if (!(e instanceof CommandFailed)) throw e;
    throw failure('flake-eval-failed', `the SSH and firewall settings of nixosConfigurations.${c.host} do not evaluate: ${messageOf(e).slice(0, 300)}`, 'fix the configuration, then run again with --resume; nothing on the target was touched');
  }
  if (!facts) throw failure('flake-eval-failed', `nix printed no SSH and firewall settings for nixosConfigurations.${c.host}`, 'run again with --debug to see its output');
  return facts;
}

/**
 * How the operator reaches the installed host: the manifest's target (port, user; the NixOS
 * installer's `nixos` user is not on the installed system, root is), the probe's NICs, and
 * whether a Tailscale auth key reaches the host. Pure.
 */
export function buildInstallExpectation(c: Pick<C, 'target' | 'report' | 'login' | 'loaded'>, facts: AccessFacts, users: Record<string, string[]>): AccessExpectation {
  const user = c.report.os.isInstaller && c.target.user === 'nixos' ? 'root' : c.target.user;
  const ts = c.loaded.config.tailscale;
  // The flake reads a key file: it is there when the flake delivers it itself (another path) or we do.
  const file = facts.tailscale.authKeyFile;
  const tailscaleAuthKey = file !== null && (file !== ts.authKeyPath || ts.authKey !== undefined);
  return { port: c.target.port, user, operatorKeys: c.login.keys, users, interfaces: c.report.nics.map((n) => n.name), tailscaleAuthKey };
}

/**
 * Refuse a lock-out, or with --allow-lockout warn and return the journal detail.
 * @throws failure 'lockout' naming each option to change, before anything on the target is touched
 */
export async function runLockoutGuard(c: C, users: Record<string, string[]>, progress: Task): Promise<{ detail?: string; check: LockoutCheck }> {
  progress.update('checking that sshd, the firewall and the login key let you back in');
  const facts = await runEvalAccessFacts(c);
  const check = checkLockout(facts, buildInstallExpectation(c, facts, users));
  for (const w of check.warnings) c.out.warn(w);
  if (!check.lockouts.length) return { check };
  const what = describeLockouts(check.lockouts);
  if (c.answers.allowLockout) {
    c.out.warn(`${c.host} would lock you out (--allow-lockout): ${what}`);
    return { detail: `--allow-lockout: ${check.lockouts.map((l) => l.code).join(', ')}: ${what}`, check };
  }
  const file = `${hostDir(c.loaded.config, c.host)}/default.nix`;
  throw failure('lockout', `after the install you could not log into ${c.host}: ${what}`, `set ${check.lockouts.map((l) => l.option).join('; ')} in ${file} (or the module that sets it), or pass --allow-lockout; nothing on the target was touched`);
}

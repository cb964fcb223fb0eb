/**
 * Preflight's lock-out guard (issue 21): from the host's evaluated sshd, firewall and Tailscale
 * options and users' keys (installer/lockout.ts runEvalAccessFacts, one evaluation) refuse, before the wipe, a configuration that would shut
 * the operator out of the installed host, naming the option to change. `--allow-lockout` overrides
 * it; the override is returned as the step's journal detail, so the journal says who was warned.
 */
import type { Task } from '../../ports/output.js';
import { hostDir } from '../../config/host-dir.js';
import { failure } from '../../errors.js';
import { checkLockout, describeLockouts, type AccessExpectation, type AccessFacts, type LockoutCheck } from '../../installer/lockout.js';
import type { InstallCtx } from './context.js';
import { buildTailscaleAnswers } from './tailscale-key.js';
import { planTailnetReach, type TailnetReach } from '../shared/tailnet.js';

type C = Pick<InstallCtx, 'app' | 'flakeDir' | 'host' | 'signal' | 'answers' | 'login' | 'loaded' | 'out' | 'target' | 'report'>;

/**
 * How the operator reaches the installed host: the manifest's target (port, user; the NixOS
 * installer's `nixos` user is not on the installed system, root is), the probe's NICs, and
 * whether a Tailscale auth key reaches the host. Pure.
 */
export function buildInstallExpectation(c: Pick<C, 'target' | 'report' | 'login' | 'loaded'>, facts: AccessFacts, loginUser?: string): AccessExpectation {
  const user = loginUser ?? (c.report.os.isInstaller && c.target.user === 'nixos' ? 'root' : c.target.user);
  const ts = c.loaded.config.tailscale;
  // The flake reads a key file: it is there when the flake delivers it itself (another path) or we do.
  const file = facts.tailscale.authKeyFile;
  const tailscaleAuthKey = file !== null && (file !== ts.authKeyPath || ts.authKey !== undefined);
  // The system being replaced may be on the tailnet; the new one joins only with an auth key.
  const interfaces = c.report.nics.map((n) => n.name).filter((n) => n !== facts.tailscale.interfaceName);
  return { port: c.target.port, user, operatorKeys: c.login.keys, users: facts.users, interfaces, tailscaleAuthKey };
}

/**
 * Refuse a lock-out, or with --allow-lockout warn and return the journal detail.
 * @throws failure 'lockout' naming each option to change, before anything on the target is touched
 */
export async function runLockoutGuard(c: C, facts: AccessFacts, progress: Task, loginUser?: string): Promise<{ detail?: string; check: LockoutCheck }> {
  progress.update('checking that sshd, the firewall and the login key let you back in');
  const check = checkLockout(facts, buildInstallExpectation(c, facts, loginUser));
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

/**
 * How the installed host is reached (issue 21): over its tailnet name when the port is open only
 * on the tailnet interface. With --allow-lockout a tailnet-only host without a tailnet name is
 * warned about, not refused (verify then waits on the target, as asked).
 * @throws failure 'tailnet-name-unknown' (shared/tailnet.ts planTailnetReach)
 */
export function planInstallReach(c: Pick<C, 'host' | 'loaded' | 'answers' | 'out'>, facts: AccessFacts, check: LockoutCheck): TailnetReach {
  const name = buildTailscaleAnswers(c.loaded.config.tailscale, c.host).tailscaleName;
  try {
    return planTailnetReach(check, facts.tailscale.interfaceName, name, c.host);
  } catch (e) {
    if (!c.answers.allowLockout) throw e;
    c.out.warn(`${(e as Error).message} (--allow-lockout)`);
    return { tailnetOnly: false };
  }
}

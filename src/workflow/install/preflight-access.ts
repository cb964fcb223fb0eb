/**
 * Preflight, who gets back in after the wipe (issues 18 and 21), from ONE evaluation of the host's
 * config (installer/lockout.ts ACCESS_APPLY): who may log in and become root (login.ts, refused
 * unless --allow-no-login), then the lock-out guard (lockout-guard.ts, refused unless
 * --allow-lockout): sshd enabled, on the target's port and address, let through the firewall, the
 * login user admitted by sshd with a key the operator holds. The guard also covers what the
 * separate sshd check (sshd enabled, on the target's port) used to evaluate a second time.
 */
import { failure } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import { buildAccessFactsArgv, parseAccessFacts, type AccessFacts, type LockoutCheck } from '../../installer/lockout.js';
import type { Task } from '../../ports/output.js';
import type { InstallCtx } from './context.js';
import { runLockoutGuard } from './lockout-guard.js';
import { runLoginCheck } from './login.js';
import { buildNixFailure } from './preflight-nix.js';

type C = Pick<InstallCtx, 'app' | 'flakeDir' | 'host' | 'signal' | 'answers' | 'login' | 'loaded' | 'out' | 'target' | 'report' | 'builtPath'>;

/**
 * The host's access facts: one `nix eval` (no build).
 * @throws failure 'flake-eval-failed' (or 'option-conflict', naming both files) when it does not evaluate
 */
export async function runEvalInstallAccess(c: C, progress: Task): Promise<AccessFacts> {
  progress.update('evaluating who can log in, sshd and the firewall');
  let facts: AccessFacts | undefined;
  try {
    facts = parseAccessFacts((await c.app.run(buildAccessFactsArgv(c.flakeDir, c.host), { cwd: c.flakeDir, signal: c.signal, timeoutMs: 10 * 60_000 })).stdout);
  } catch (e) {
    if (!(e instanceof CommandFailed)) throw e;
    throw buildNixFailure(c, e, 'flake-eval-failed', `the users, sshd and firewall of nixosConfigurations.${c.host} do not evaluate`, 'fix the configuration, then run again with --resume; nothing on the target was touched');
  }
  if (!facts) throw failure('flake-eval-failed', `nix printed no users, sshd and firewall settings for nixosConfigurations.${c.host}`, 'run again with --debug to see its output');
  return facts;
}

/** The login check, then the guard. Returns the journal detail of an --allow-lockout override. */
export async function runAccessPreflight(c: C, progress: Task): Promise<{ detail?: string; facts: AccessFacts; check: LockoutCheck }> {
  const facts = await runEvalInstallAccess(c, progress);
  // Who bootstrap logs in as afterwards (root, or an admin with sudo when root may not): the
  // guard checks that this user keeps a way in.
  const loginUser = await runLoginCheck(c, progress, facts.login);
  const guard = await runLockoutGuard(c, facts, progress, loginUser);
  return { ...(guard.detail !== undefined ? { detail: guard.detail } : {}), facts, check: guard.check };
}

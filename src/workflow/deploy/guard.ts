/**
 * Deploy's lock-out guard (issue 21 item 4): before the rollback timer is armed and the switch
 * runs, the new configuration's sshd, firewall and Tailscale options and users' keys
 * (installer/lockout.ts, one evaluation, no build) are compared with how the operator reaches the
 * running host: the manifest's target port and login user, the key bootstrap logs in with, and the
 * interfaces the host has now (read on the connection already open). A lock-out is refused before
 * anything on the host changes, naming the option; `--allow-lockout` overrides it and the override
 * is returned as the switch step's journal detail (then the rollback timer is what saves the host).
 */
import type { AppContext } from '../../context.js';
import { failure } from '../../errors.js';
import { checkLockout, describeLockouts, runEvalAccessFacts, type AccessExpectation, type AccessFacts, type LockoutCheck } from '../../installer/lockout.js';
import { resolveLoginKeys, type LoginKey } from '../../installer/login-keys.js';
import type { SshTarget } from '../../ssh/target.js';
import { buildLoginKeyPorts } from '../install/login.js';

/** How the operator reaches the running host after the switch. Pure. */
export function buildDeployExpectation(target: Pick<SshTarget, 'port' | 'user'>, facts: AccessFacts, operatorKeys: readonly LoginKey[], interfaces: readonly string[]): AccessExpectation {
  // tailscale0 counts when the host has it now (it has joined) or the config hands it a key.
  return { port: target.port, user: target.user, operatorKeys, users: facts.users, interfaces, tailscaleAuthKey: facts.tailscale.authKeyFile !== null };
}

/** The interfaces a `nics=` line of the read-state script names (remote.ts). Pure. */
export function parseNics(line: string | undefined): string[] {
  return (line ?? '').split(/\s+/).filter((n) => /^[A-Za-z0-9_.:@-]+$/.test(n));
}

/**
 * The guard's verdict for one host: evaluate its access facts, find the operator's login keys
 * (the -i identity's .pub, else the agent's / ~/.ssh's, as install finds them).
 */
export async function evalDeployLockout(app: Pick<AppContext, 'cwd' | 'env' | 'run' | 'signal'>, o: { flakeDir: string; host: string; target: Pick<SshTarget, 'port' | 'user'>; identity?: string; interfaces: readonly string[] }): Promise<LockoutCheck> {
  const facts = await runEvalAccessFacts(app.run, { flakeDir: o.flakeDir, host: o.host, signal: app.signal });
  const keys = await resolveLoginKeys(o.identity ? { identityFile: o.identity } : {}, buildLoginKeyPorts(app));
  return checkLockout(facts, buildDeployExpectation(o.target, facts, keys.keys, o.interfaces));
}

/**
 * Refuse a lock-out, or with --allow-lockout warn and return the journal detail.
 * @throws failure 'lockout' naming each option to change; nothing on the host was touched
 */
export function enforceDeployLockout(app: Pick<AppContext, 'out'>, host: string, hostFile: string, check: LockoutCheck, allow: boolean): string | undefined {
  for (const w of check.warnings) app.out.warn(`${host}: ${w}`);
  if (!check.lockouts.length) return undefined;
  const what = describeLockouts(check.lockouts);
  if (allow) {
    app.out.warn(`${host}: the new configuration would lock you out (--allow-lockout): ${what}`);
    return `--allow-lockout: ${check.lockouts.map((l) => l.code).join(', ')}: ${what}`;
  }
  throw failure('lockout', `after this deploy you could not log into ${host}: ${what}`, `set ${check.lockouts.map((l) => l.option).join('; ')} in ${hostFile} (or the module that sets it), or pass --allow-lockout; nothing on the host was changed`);
}

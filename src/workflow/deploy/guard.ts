/**
 * Deploy's lock-out guard (issue 21 item 4): FIRST, before anything is built, copied or changed,
 * the new configuration's sshd, firewall and Tailscale options and users (installer/lockout.ts,
 * one evaluation, no build) are compared with how the operator reaches the running host: the
 * manifest's target address, port and login user, the key bootstrap logs in with, and, only when
 * the firewall's verdict depends on them, the interfaces the host has now (read over a short
 * pinned connection). A lock-out is refused at once, naming the option; `--allow-lockout`
 * overrides it and the override goes into the switch step's journal entry (then the rollback
 * timer is what saves the host).
 *
 * The operator's key: deploy takes no --login-key. What must still work after the switch is the
 * next connection bootstrap itself opens (the check step, status, the next deploy), and that
 * authenticates with the key deploy logs in with: the -i identity or the ssh config's
 * IdentityFile for the target (its .pub), else the agent's keys. A --login-key naming another key
 * could pass the guard while that connection fails. The manifest records the login user ([login],
 * which the target already carries), not keys; install's --login-key (op://…, local:…, a file or a
 * key line) decides which keys the host gets, and deploy checks that one of the keys it really
 * uses is among the login user's authorized keys. Without any known key the key is not checked
 * (a warning says so).
 */
import type { AppContext } from '../../context.js';
import { failure } from '../../errors.js';
import { checkLockout, describeLockouts, needsInterfaces, runEvalAccessFacts, type AccessExpectation, type AccessFacts, type LockoutCheck } from '../../installer/lockout.js';
import { resolveLoginKeys, type LoginKey } from '../../installer/login-keys.js';
import type { SshTarget } from '../../ssh/target.js';
import { buildLoginKeyPorts } from '../install/login.js';
import type { HealthTarget } from '../../health/collect.js';
import { withSession } from '../../ssh/session.js';
import { buildNicsScript, buildRemoteCommand, parseKeyLines } from './remote.js';

/** How the operator reaches the running host after the switch. Pure. */
export function buildDeployExpectation(target: Pick<SshTarget, 'port' | 'user'> & Partial<Pick<SshTarget, 'host'>>, facts: AccessFacts, operatorKeys: readonly LoginKey[], interfaces: readonly string[]): AccessExpectation {
  // tailscale0 counts when the host has it now (it has joined) or the config hands it a key.
  return { port: target.port, user: target.user, operatorKeys, users: facts.users, interfaces, tailscaleAuthKey: facts.tailscale.authKeyFile !== null, ...(target.host !== undefined ? { address: target.host } : {}) };
}

/** The interfaces a `nics=` line of the nics script names (remote.ts buildNicsScript). Pure. */
export function parseNics(line: string | undefined): string[] {
  return (line ?? '').split(/\s+/).filter((n) => /^[A-Za-z0-9_.:@-]+$/.test(n));
}

/**
 * The guard's verdict for one host: evaluate its access facts, find the operator's login keys
 * (the identity's .pub, else the agent's, as install finds them), and read the host's interfaces
 * only when the verdict depends on them.
 */
export async function evalDeployLockout(
  app: Pick<AppContext, 'cwd' | 'env' | 'run' | 'signal' | 'out'>,
  o: { flakeDir: string; host: string; target: Pick<SshTarget, 'port' | 'user' | 'host'>; identity?: string; readInterfaces: () => Promise<string[]> },
): Promise<LockoutCheck> {
  const facts = await runEvalAccessFacts(app.run, { flakeDir: o.flakeDir, host: o.host, signal: app.signal });
  const keys = await resolveLoginKeys(o.identity ? { identityFile: o.identity } : {}, buildLoginKeyPorts(app));
  if (!keys.keys.length) app.out.warn(`${o.host}: no public key of the key you log in with was found (${o.identity ? `${o.identity}.pub` : 'no -i, no ssh-agent'}): whether ${o.target.user} keeps it is not checked`);
  const interfaces = needsInterfaces(facts, o.target.port) ? await o.readInterfaces() : [];
  return checkLockout(facts, buildDeployExpectation(o.target, facts, keys.keys, interfaces));
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

/** Read the running host's interfaces over a short pinned connection (only when the guard needs them). */
export function buildInterfaceReader(app: Pick<AppContext, 'out' | 'prompts' | 'env' | 'signal'>, health: Pick<HealthTarget, 'target' | 'ssh'>): () => Promise<string[]> {
  return () =>
    withSession(app, health.target, health.ssh, async (s) => {
      const r = await s.exec(buildRemoteCommand(health.target.user), { stdin: buildNicsScript(), timeoutMs: 60_000 });
      return parseNics(parseKeyLines(r.stdout).nics);
    });
}

/**
 * Who bootstrap logs in as once a host is installed (issue 18). The manifest's target is the
 * machine the host was installed through (root@ of a rescue system, often); a host whose sshd
 * refuses root is reached afterwards as the user its manifest's [login] names, on the same address
 * and port. Status, the health report, rebuild and recover connect through this. Pure.
 */
import { formatTarget, parseTarget, type SshTarget } from '../ssh/target.js';
import type { Manifest } from './schema.js';

/** `target` with the manifest's login user, when it names one. */
export function buildLoginTarget(target: SshTarget, m: Pick<Manifest, 'login'>): SshTarget {
  const user = m.login?.user;
  return user === undefined || user === target.user ? target : Object.freeze({ ...target, user });
}

/** The manifest's target text as the installed host is logged into (undefined without a target). */
export function buildLoginTargetText(m: Pick<Manifest, 'login' | 'target'>): string | undefined {
  return m.target === undefined ? undefined : formatTarget(buildLoginTarget(parseTarget(m.target), m));
}

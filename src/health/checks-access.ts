/**
 * Who the health report ran as (issue 18). A host whose sshd refuses root is checked through its
 * login user: as root through `sudo -n` when that user may, else as the user itself. What a
 * non-root login cannot read (a root-only netrc, a key file behind a closed directory) is then
 * "not checked (needs root)" and a warning, never a false failure; the identity.login check says
 * how the report ran and how many checks that left out. Pure.
 */
import type { HealthFacts } from './facts.js';
import { check, type HealthCheck } from './report.js';

export const NEEDS_ROOT = 'not checked (needs root)';

/** The script ran without root (older outputs, without the access section, count as root). */
export function ranWithoutRoot(f: Pick<HealthFacts, 'access'>): boolean {
  return f.access !== null && f.access !== undefined && f.access.uid !== null && f.access.uid !== 0;
}

/** The login's name, for messages. */
export function loginName(f: Pick<HealthFacts, 'access'>): string {
  return f.access?.sudoUser ?? f.access?.user ?? 'the login user';
}

/** The hint of every "not checked (needs root)" check. */
export function needsRootHint(f: Pick<HealthFacts, 'access'>): string {
  const u = loginName(f);
  return `let ${u} run sudo without a password (security.sudo.wheelNeedsPassword = false, or a NOPASSWD rule for ${u}) for a full report`;
}

/** identity.login: how the report ran, when not simply as root. Undefined for a root login. */
export function buildAccessCheck(f: Pick<HealthFacts, 'access'>, checks: readonly HealthCheck[]): HealthCheck | undefined {
  const a = f.access;
  if (!a || a.uid === null) return undefined;
  if (a.uid === 0) return a.sudoUser ? check('identity.login', 'identity', 'ok', `logged in as ${a.sudoUser}, checked as root through sudo -n`) : undefined;
  const skipped = checks.filter((c) => c.summary.includes(NEEDS_ROOT)).map((c) => c.id);
  if (!skipped.length) return check('identity.login', 'identity', 'ok', `logged in as ${loginName(f)} without root (sudo -n refused); no check here needed root`);
  return check('identity.login', 'identity', 'warn', `logged in as ${loginName(f)} without root (sudo -n refused): ${skipped.length} check${skipped.length === 1 ? '' : 's'} ${NEEDS_ROOT}: ${[...new Set(skipped)].join(', ')}`, needsRootHint(f));
}

/**
 * The health report: data first (zod, `--json`), rendered second (render.ts). A check is ok, warn,
 * fail, or n/a (does not apply to this host: no backups configured), with a one-line reason and,
 * unless ok, a fix hint. A host that could not be reached has no checks, only its error.
 */
import { z } from 'zod';
import { HealthFactsSchema } from './facts.js';

export const CHECK_STATUSES = ['ok', 'warn', 'fail', 'n/a'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export const CHECK_GROUPS = ['system', 'disks', 'identity', 'secrets', 'cache', 'backups', 'time', 'space', 'declared'] as const;
export type CheckGroup = (typeof CHECK_GROUPS)[number];

export const HealthCheckSchema = z.object({
  /** Stable id, e.g. "system.failed-units", "cache.substituter". */
  id: z.string(),
  group: z.enum(CHECK_GROUPS),
  status: z.enum(CHECK_STATUSES),
  /** One line: what was found. */
  summary: z.string(),
  /** One line: how to fix it (absent when ok). */
  hint: z.string().optional(),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

export const HostStatusSchema = z.enum(['ok', 'warn', 'fail']);
export type HostStatus = z.infer<typeof HostStatusSchema>;

export const HealthReportSchema = z.object({
  host: z.string(),
  target: z.string(),
  status: HostStatusSchema,
  /** How the host was reached: its tailnet name (the manifest's [tailscale] name, issue 21) or its target. */
  via: z.enum(['tailnet', 'target']).optional(),
  collectedAt: z.string(),
  seconds: z.number(),
  /** The host key the pinned connection saw (absent when the host was not reached). */
  hostKey: z.string().optional(),
  /** Booted kernel, initrd or modules differ from the running configuration's (null: cannot tell). */
  needsReboot: z.boolean().nullable().optional(),
  /** The running system's system.configurationRevision (null: the flake sets none). */
  revision: z.string().nullable().optional(),
  checks: z.array(HealthCheckSchema),
  counts: z.object({ ok: z.number(), warn: z.number(), fail: z.number(), na: z.number() }),
  /** Why the host could not be checked at all (unreachable, host key changed, no manifest, …). */
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
  facts: HealthFactsSchema.optional(),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;

/** One check; the hint is kept only where there is something to fix. Pure. */
export function check(id: string, group: CheckGroup, status: CheckStatus, summary: string, hint?: string): HealthCheck {
  return { id, group, status, summary, ...(hint && status !== 'ok' && status !== 'n/a' ? { hint } : {}) };
}

/** The worst status of a list of checks; n/a counts as ok. Pure. */
export function worstStatus(checks: readonly Pick<HealthCheck, 'status'>[]): HostStatus {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'ok';
}

export function countChecks(checks: readonly HealthCheck[]): HealthReport['counts'] {
  const n = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  return { ok: n('ok'), warn: n('warn'), fail: n('fail'), na: n('n/a') };
}

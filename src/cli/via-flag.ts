/** `--via tailnet|target` of status and deploy (issue 21): force the route to each host. */
import { usageError } from '../errors.js';

/** The flag → the option, or {} when not given. @throws usageError 'bad-flag' */
export function parseVia(raw: string | undefined): { via?: 'tailnet' | 'target' } {
  if (raw === undefined) return {};
  if (raw !== 'tailnet' && raw !== 'target') throw usageError('bad-flag', `--via takes tailnet or target, got "${raw}"`, "--via target skips the manifest's tailnet name; --via tailnet uses it even when it does not resolve here");
  return { via: raw };
}

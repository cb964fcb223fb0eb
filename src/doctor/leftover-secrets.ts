/**
 * Secret directories of runs that were killed (kill -9, the OOM killer, a power cut of the
 * operator's machine) hold host keys and LUKS passphrases until someone wipes them. doctor wipes
 * them, as the next install does, and says what it found.
 */
import { describeAge, listSecretBases, sweepStaleSecretDirs } from '../installer/secret-dir.js';
import type { CheckResult } from './checks.js';

export async function leftoverSecretsCheck(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const name = 'leftover secrets';
  const bases = listSecretBases(env);
  const swept = await sweepStaleSecretDirs(bases);
  if (!swept.length) return { name, status: 'ok', detail: `no secret directory of a killed run in ${bases.join(', ')}`, required: false };
  const list = swept.map((d) => `${d.path} (${describeAge(d.ageMs)} old)`).join(', ');
  return {
    name,
    status: 'warn',
    detail: `wiped ${swept.length} secret director${swept.length === 1 ? 'y' : 'ies'} left by killed runs: ${list}`,
    fix: 'nothing left to do; if a run was killed during the install, finish it with --resume',
    required: false,
  };
}

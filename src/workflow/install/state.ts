/**
 * What a run saves for --resume under .bootstrap/state/HOST/: the answers (never the wipe
 * confirmation, never a secret) and the report the plan came from, so a resumed run re-plans the
 * same files without probing a target that may be half installed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseWith } from '../../config/validate.js';
import { usageError } from '../../errors.js';
import { HardwareReportSchema, type HardwareReport } from '../../probe/report.js';
import { InstallAnswersSchema, buildResumableAnswers, type InstallAnswers } from './answers.js';
import { statePaths } from '../../config/state-paths.js';

const RunStateSchema = z.object({
  mode: z.enum(['new-host', 'rebuild', 'recover']),
  answers: InstallAnswersSchema,
  report: HardwareReportSchema,
});
export type RunState = z.infer<typeof RunStateSchema>;

export function buildStatePath(flakeDir: string, stateDir: string, host: string): string {
  return statePaths(flakeDir, stateDir).runState(host);
}

export async function saveRunState(path: string, state: { mode: RunState['mode']; answers: InstallAnswers; report: HardwareReport }): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify({ ...state, answers: buildResumableAnswers(state.answers) }, null, 2) + '\n', { mode: 0o600 });
}

export async function loadRunState(path: string, host: string): Promise<RunState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw usageError('nothing-to-resume', `no earlier run of ${host} to resume`, 'run it again without --resume');
  }
  return parseWith(RunStateSchema, JSON.parse(text), path, 'remove it and run again without --resume');
}

/**
 * Fingerprints of the keys the target presented before the installed system (its original key,
 * the installer's): public values, kept so a resumed run still tolerates them and, with
 * --copy-host-keys, still knows which key the installed host must present.
 */
export function buildEarlierKeysPath(statePath: string): string {
  return join(statePath, '..', 'earlier-keys.json');
}

export async function loadEarlierKeys(path: string): Promise<string[]> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.startsWith('SHA256:')) : [];
  } catch {
    return [];
  }
}

export async function saveEarlierKeys(path: string, fingerprints: Iterable<string>): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify([...fingerprints]) + '\n', { mode: 0o600 });
}

/**
 * Every answer an install needs, from flags, an answers file (`--answers FILE`, TOML or JSON) or
 * prompts. Flags and the file fill the same object, so the wizard and a script follow one code
 * path (`answers.disk ?? await ask(...)`). Flags win over the file.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseTomlFile } from '../../config/load.js';
import { parseWith } from '../../config/validate.js';
import { usageError } from '../../errors.js';
import { parsePhaseTimeouts } from '../../nix/phases.js';
import { CHOICE_KEYS, flagOf, INSTALL_CHOICES, type ChoiceKey } from './choices.js';

/** The answers schema, derived from the choice table (choices.ts): every key optional, no other key. */
const shape = Object.fromEntries(CHOICE_KEYS.map((k) => [k, INSTALL_CHOICES[k].schema])) as { [K in ChoiceKey]: (typeof INSTALL_CHOICES)[K]['schema'] };
export const InstallAnswersSchema = z.object(shape).partial().strict();

export type InstallAnswers = z.infer<typeof InstallAnswersSchema>;

/** Read an answers file: JSON when it ends in .json, TOML otherwise. */
export async function readAnswersFile(cwd: string, file: string): Promise<InstallAnswers> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (e) {
    throw usageError('bad-answers-file', `--answers ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'give the path of an answers file (TOML or JSON)');
  }
  let raw: unknown;
  if (file.endsWith('.json')) {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw usageError('bad-answers-file', `${file} is not valid JSON (${(e as Error).message.split('\n')[0]})`, `fix ${file}`);
    }
  } else raw = parseTomlFile(text, file);
  const answers = parseWith(InstallAnswersSchema, raw, file, `fix ${file}; see \`bootstrap new-host --help\` for the keys (camelCase of the flags)`);
  // The file's own phaseTimeouts object: parsing copies keys, and a "__proto__" key would vanish.
  const rawTimeouts = (raw as { phaseTimeouts?: Record<string, string | number> }).phaseTimeouts;
  if (rawTimeouts) parsePhaseTimeouts(rawTimeouts);
  return checkAnswers(answers, (key) => `${file}: ${key}`);
}

/**
 * Answer values that need no target (host name, swap size, layout name, a second disk for that
 * layout, phase timeouts) are bad input as soon as they are read: refused before any connection,
 * not when the plan first needs them. Also run on the merged answers (file, flags, manifest).
 */
export function checkAnswers(a: InstallAnswers, where: (key: ChoiceKey) => string = (key) => `--${flagOf(key).name}`): InstallAnswers {
  for (const key of CHOICE_KEYS) {
    const check = INSTALL_CHOICES[key].check as ((v: unknown, all: InstallAnswers, where: string) => void) | undefined;
    if (check && a[key] !== undefined) check(a[key], a, where(key));
  }
  return a;
}

/** File answers overlaid with flag answers (flags win); undefined members dropped. */
export function mergeAnswers(...layers: InstallAnswers[]): InstallAnswers {
  const out: Record<string, unknown> = {};
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  return out as InstallAnswers;
}

/** What may be saved for --resume: every answer but those the choice table marks neverSaved (confirmations). */
export function buildResumableAnswers(a: InstallAnswers): InstallAnswers {
  return Object.fromEntries(Object.entries(a).filter(([k]) => !INSTALL_CHOICES[k as ChoiceKey]?.neverSaved)) as InstallAnswers;
}

/** How an install command runs, besides its answers: shared by new-host, rebuild and recover. */
export interface InstallRunFlags {
  answers: InstallAnswers;
  flakeDir: string;
  resume: boolean;
  from?: string;
  dryRun: boolean;
  json: boolean;
}

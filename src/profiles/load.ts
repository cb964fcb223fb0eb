/**
 * Load hardware-profiles/*.toml (shipped beside src/ and dist/). Each file is validated with zod;
 * a broken file is a usage error naming the file and the key path. The file name must equal the
 * profile name, so `--profile NAME` and the file a reader opens agree.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseTomlFile } from '../config/load.js';
import { parseWith } from '../config/validate.js';
import { usageError } from '../errors.js';
import { packageFile } from '../package-files.js';
import { ProfileSchema, type Profile } from './schema.js';

/** hardware-profiles/ of the package (package-files.ts: the same from src/ and from the bundle). */
export const PROFILES_DIR = packageFile('hardware-profiles') + '/';

/** Parse and validate one profile file's text. */
export function parseProfile(text: string, file: string): Profile {
  const profile = parseWith(ProfileSchema, parseTomlFile(text, file), file);
  const expected = basename(file).replace(/\.toml$/, '');
  if (profile.name !== expected) {
    throw usageError('invalid-file', `${file}: name "${profile.name}" does not match the file name "${expected}.toml"`);
  }
  return profile;
}

/** All profiles in a directory, sorted by name. */
export async function loadProfiles(dir: string = PROFILES_DIR): Promise<Profile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.toml')).sort();
  const profiles = await Promise.all(names.map(async (n) => parseProfile(await readFile(join(dir, n), 'utf8'), n)));
  if (profiles.length === 0) throw usageError('no-profiles', `no hardware profiles in ${dir}`);
  return profiles;
}

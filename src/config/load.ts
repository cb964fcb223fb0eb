/** Find and load bootstrap.toml. A missing file means defaults; a broken one is a usage error. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { usageError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';
import { parseWith } from './validate.js';

export const CONFIG_FILE = 'bootstrap.toml';

export interface LoadedConfig {
  flakeDir: string;
  file: string;
  exists: boolean;
  config: Config;
}

/** Parse TOML text; a syntax error names the file and line. */
export function parseTomlFile(text: string, file: string): unknown {
  try {
    return parseToml(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw usageError('invalid-toml', `${file}: ${msg}`, `fix the TOML syntax in ${file}`, e);
  }
}

export async function loadConfig(flakeDir: string): Promise<LoadedConfig> {
  const dir = resolve(flakeDir);
  const file = join(dir, CONFIG_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw usageError('unreadable-config', `cannot read ${file}: ${(e as Error).message}`);
  }
  const raw = text === undefined ? {} : parseTomlFile(text, CONFIG_FILE);
  return { flakeDir: dir, file, exists: text !== undefined, config: parseWith(ConfigSchema, raw, CONFIG_FILE) };
}

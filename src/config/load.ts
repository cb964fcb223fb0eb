/** Find and load bootstrap.toml. A missing file means defaults; a broken one is a usage error. */
import { readFile, stat } from 'node:fs/promises';
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

/**
 * The flake directory must exist: a missing one is a typo in --flake, and no command may create it
 * (plan --write would otherwise scatter hosts/ into a new directory).
 * @throws usageError 'no-flake-dir'
 */
export async function assertFlakeDirExists(flakeDir: string): Promise<void> {
  const dir = resolve(flakeDir);
  const hint = 'pass --flake DIR of an existing flake directory, or run inside it';
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw usageError('no-flake-dir', `the flake directory ${dir} does not exist`, hint);
    throw usageError('no-flake-dir', `cannot open the flake directory ${dir}: ${code ?? (e as Error).message}`, hint);
  }
  if (!isDir) throw usageError('no-flake-dir', `the flake directory ${dir} is not a directory`, hint);
}

/** Load bootstrap.toml of an existing flake directory (see assertFlakeDirExists). */
export async function loadConfig(flakeDir: string): Promise<LoadedConfig> {
  const dir = resolve(flakeDir);
  await assertFlakeDirExists(dir);
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

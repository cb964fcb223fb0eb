/** Doctor checks that read the flake's bootstrap.toml (and, through it, the secret store). */
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { isBootstrapError, messageOf } from '../errors.js';
import type { CheckResult } from './checks.js';

export async function checkConfig(flakeDir: string): Promise<{ result: CheckResult; loaded?: LoadedConfig }> {
  try {
    const loaded = await loadConfig(flakeDir);
    const detail = loaded.exists
      ? `${loaded.file} is valid (secret store: ${loaded.config.secrets.store})`
      : `no bootstrap.toml in ${loaded.flakeDir}: using defaults (local age vault, sops)`;
    return { result: { name: 'bootstrap.toml', status: 'ok', detail, required: true }, loaded };
  } catch (e) {
    return {
      result: {
        name: 'bootstrap.toml',
        status: 'missing',
        detail: messageOf(e),
        fix: isBootstrapError(e) && e.hint ? e.hint : 'fix bootstrap.toml',
        required: true,
      },
    };
  }
}

/**
 * .bootstrap/ holds journals, logs and locks of this machine's runs: it belongs in .gitignore.
 * Only checked when the flake is a git work tree (a .git entry at its root).
 */
export async function checkStateIgnored(flakeDir: string, stateDir: string): Promise<CheckResult | undefined> {
  const { readFile, access } = await import('node:fs/promises');
  const { join } = await import('node:path');
  try {
    await access(join(flakeDir, '.git'));
  } catch {
    return undefined;
  }
  const ignore = await readFile(join(flakeDir, '.gitignore'), 'utf8').catch(() => '');
  const name = stateDir.replace(/\/+$/, '');
  const listed = ignore.split('\n').some((l) => [name, `${name}/`, `/${name}`, `/${name}/`].includes(l.trim()));
  return listed
    ? { name: 'git-ignore', status: 'ok', detail: `${name}/ is git-ignored`, required: false }
    : { name: 'git-ignore', status: 'warn', detail: `${name}/ (journals, logs, locks of local runs) is not in .gitignore`, fix: `echo '/${name}/' >> ${join(flakeDir, '.gitignore')}`, required: false };
}

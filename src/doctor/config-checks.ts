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

/**
 * The one place a secret store is chosen from bootstrap.toml ([secrets] store = "local" |
 * "onepassword"). Commands call `openSecretStore(loaded, ctx)`; tests may pass their own
 * 1Password client factory.
 */
import type { AppContext } from '../context.js';
import type { LoadedConfig } from '../config/load.js';
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { loadAdminIdentity } from './age-identity.js';
import { LocalVault } from './local-vault.js';
import { TOKEN_HINT } from './onepassword-errors.js';
import { OnePasswordStore } from './onepassword.js';
import type { OpAuth, OpClientFactory } from './onepassword-items.js';
import type { SecretStore } from './store.js';

export interface OpenStoreOptions {
  /** Replaces the real SDK loader (tests). */
  onePasswordFactory?: OpClientFactory;
  /** Waits between retries of rate-limited 1Password calls (default: real time). */
  sleep?: (ms: number) => Promise<void>;
}

/** Pure: which 1Password credentials to use. Token first; the desktop app when an account is set. */
export function planOnePasswordAuth(env: NodeJS.ProcessEnv, account: string | undefined): OpAuth {
  const token = env.OP_SERVICE_ACCOUNT_TOKEN?.trim();
  if (token) {
    registerSecret(token);
    if (!token.startsWith('ops_')) throw usageError('op-token-invalid', 'OP_SERVICE_ACCOUNT_TOKEN does not look like a service account token (they start with "ops_")', TOKEN_HINT);
    return { kind: 'token', token };
  }
  if (account) return { kind: 'desktop', account };
  throw usageError('op-token-missing', 'OP_SERVICE_ACCOUNT_TOKEN is not set (bootstrap.toml selects the onepassword secret store)', `${TOKEN_HINT}; or set [secrets.onepassword] account = "…" to use the desktop app`);
}

export async function openSecretStore(loaded: LoadedConfig, ctx: Pick<AppContext, 'env'>, opts: OpenStoreOptions = {}): Promise<SecretStore> {
  const { config, flakeDir } = loaded;
  if (config.secrets.store === 'local') {
    const local = config.secrets.local;
    return new LocalVault({ flakeDir, dir: local.dir, recipients: local.recipients, loadIdentity: () => loadAdminIdentity(ctx.env, flakeDir, local.identityFile) });
  }
  const op = config.secrets.onepassword;
  if (!op) throw usageError('op-vault-missing', 'bootstrap.toml selects store = "onepassword" but has no [secrets.onepassword] vault', 'add [secrets.onepassword] with vault = "NAME" to bootstrap.toml');
  const auth = planOnePasswordAuth(ctx.env, op.account);
  const factory = opts.onePasswordFactory ?? (async (a: OpAuth) => (await import('./onepassword-client.js')).createSdkClient(a, ctx.env));
  return new OnePasswordStore({ vault: op.vault, auth, factory, ...(opts.sleep ? { sleep: opts.sleep } : {}) });
}

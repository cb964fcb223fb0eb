/**
 * OpNix (github:brizzbuzz/opnix) reads 1Password secrets on the host with a service account token
 * kept in a file: its NixOS option services.onepassword-secrets.tokenFile, default
 * /etc/opnix-token (`opnix token set` writes it 0600; the module's activation makes it
 * root:onepassword-secrets 0640 and reads it with surrounding whitespace trimmed). With
 * [secrets] store = "onepassword" and a flake that uses OpNix, the install puts the token there
 * through the --extra-files tree (0600, like every secret file), so the first boot can read its
 * secrets (issue 11). The token is registered with the redactor and never printed.
 *
 * Config: [secrets.onepassword] opnix (true/false; default: flake.nix names opnix),
 * opnixTokenPath (default /etc/opnix-token; a different path must also be set as the host's
 * services.onepassword-secrets.tokenFile), opnixToken (an op:// reference to the token the hosts
 * get, e.g. a read-only service account; default: the OP_SERVICE_ACCOUNT_TOKEN bootstrap uses).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { OnePasswordStore } from '../../secrets/onepassword.js';
import type { SecretStore } from '../../secrets/store.js';

/** OpNix's own default for services.onepassword-secrets.tokenFile. */
export const OPNIX_DEFAULT_TOKEN_PATH = '/etc/opnix-token';

/** Pure: whether flake.nix uses OpNix (the input, its URL or its module), comments ignored. */
export function detectOpnix(flakeNix: string): boolean {
  const code = flakeNix
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('\n');
  return /brizzbuzz\/opnix/.test(code) || /\bopnix(\.url)?\s*=/.test(code) || /\bopnix\.nixosModules\b/.test(code);
}

/** Pure: where the OpNix token goes on the host, or undefined when no token is delivered. */
export function planOpnixToken(secrets: Config['secrets'], flakeNix: string | undefined): { path: string } | undefined {
  const op = secrets.onepassword;
  if (secrets.store !== 'onepassword' || !op) return undefined;
  const on = op.opnix ?? (flakeNix !== undefined && detectOpnix(flakeNix));
  return on ? { path: op.opnixTokenPath } : undefined;
}

/**
 * The token file for the extra-files tree, or undefined when the host does not use OpNix.
 * @throws usageError 'opnix-no-token' when there is no service account token to give the host
 */
export async function readOpnixTokenFile(loaded: Pick<LoadedConfig, 'flakeDir' | 'config'>, store: SecretStore): Promise<{ path: string; content: string } | undefined> {
  if (loaded.config.secrets.store !== 'onepassword') return undefined;
  const flakeNix = await readFile(join(loaded.flakeDir, 'flake.nix'), 'utf8').catch(() => undefined);
  const plan = planOpnixToken(loaded.config.secrets, flakeNix);
  if (!plan) return undefined;
  const ref = loaded.config.secrets.onepassword?.opnixToken;
  let token: string | undefined;
  if (ref && store.readRef) token = (await store.readRef(ref, 'bootstrap.toml [secrets.onepassword] opnixToken')).value.trim();
  else if (store instanceof OnePasswordStore) token = store.serviceAccountToken();
  if (!token) {
    throw usageError(
      'opnix-no-token',
      'the host uses OpNix, which needs a 1Password service account token, but bootstrap signs in through the desktop app',
      'set [secrets.onepassword] opnixToken = "op://VAULT/ITEM/credential" (a token for the hosts), export OP_SERVICE_ACCOUNT_TOKEN, or set [secrets.onepassword] opnix = false',
    );
  }
  registerSecret(token);
  return { path: plan.path, content: `${token}\n` };
}

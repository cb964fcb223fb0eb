/**
 * Tailscale (issue 21): a host reachable only over its tailnet must join it on first boot, or the
 * install locks the operator out. With [tailscale] authKey (any secret store reference) the install
 * delivers the key like the OpNix token: 0600 at [tailscale] authKeyPath through the --extra-files
 * tree, registered with the redactor and never printed. A new host's default.nix reads it
 * (services.tailscale.authKeyFile, lib.mkDefault), and the manifest records HOST.TAILNET.
 */
import type { Config } from '../../config/schema.js';
import { usageError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import type { SecretStore } from '../../secrets/store.js';

/** What the plan renders and records for the host's tailnet. Pure. */
export function buildTailscaleAnswers(ts: Config['tailscale'], host: string): { tailscaleAuthKeyFile?: string; tailscaleName?: string } {
  return {
    ...(ts.authKey ? { tailscaleAuthKeyFile: ts.authKeyPath } : {}),
    ...(ts.tailnet ? { tailscaleName: `${host}.${ts.tailnet}` } : {}),
  };
}

/**
 * The auth key file for the extra-files tree, or undefined without [tailscale] authKey.
 * @throws usageError 'tailscale-key-unreadable' when the store cannot read the reference
 */
export async function readTailscaleKeyFile(ts: Config['tailscale'], store: SecretStore): Promise<{ path: string; content: string } | undefined> {
  if (!ts.authKey) return undefined;
  if (!store.readRef) {
    throw usageError('tailscale-key-unreadable', `bootstrap.toml [tailscale] authKey: the ${store.kind} secret store cannot read references`, 'use a reference of the configured store (op://… for onepassword, local:… for the local vault)');
  }
  const value = (await store.readRef(ts.authKey, 'bootstrap.toml [tailscale] authKey')).value.trim();
  registerSecret(value);
  if (!value) throw usageError('tailscale-key-unreadable', 'bootstrap.toml [tailscale] authKey names an empty secret', 'store the auth key (tskey-auth-…) there');
  return { path: ts.authKeyPath, content: `${value}\n` };
}

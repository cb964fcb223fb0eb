/**
 * `doctor`: the provider credentials of hosts with a [provider] section (issue 13). Read-only calls
 * only: one credential check per provider account, then a lookup of each host's server, so a
 * wrong token, a missing permission or a server outside the token's project shows before a rescue
 * is needed. Not required checks: a flake works without rescues.
 */
import type { LoadedConfig } from '../config/load.js';
import type { AppContext } from '../context.js';
import { messageOf } from '../errors.js';
import { readManifest } from '../manifest/manifest.js';
import type { ProviderSettings } from '../provider/open-provider.js';
import type { CheckResult } from './checks.js';

export async function providerChecks(ctx: AppContext, loaded: LoadedConfig): Promise<CheckResult[]> {
  const { listFlakeHosts } = await import('../manifest/flake-hosts.js');
  const byAccount = new Map<string, { settings: ProviderSettings; hosts: Array<{ host: string; server: string }> }>();
  for (const host of await listFlakeHosts(loaded)) {
    let p: ProviderSettings | undefined;
    try {
      p = (await readManifest(loaded.flakeDir, host)).provider;
    } catch {
      continue; // a broken manifest is reported by the commands that read it
    }
    if (!p) continue;
    const key = `${p.kind} ${p.credentials}`;
    const entry = byAccount.get(key) ?? { settings: p, hosts: [] };
    entry.hosts.push({ host, server: p.server });
    byAccount.set(key, entry);
  }
  if (byAccount.size === 0) return [];
  const { openSecretStore } = await import('../secrets/open-store.js');
  const { openProvider } = await import('../provider/open-provider.js');
  const results: CheckResult[] = [];
  for (const { settings, hosts } of byAccount.values()) {
    const name = `provider ${settings.kind} (${settings.credentials})`;
    try {
      const provider = await openProvider(ctx, settings, await openSecretStore(loaded, ctx));
      const check = await provider.checkCredentials();
      if (!check.ok) {
        results.push({ name, status: 'warn', detail: check.detail, fix: check.hint ?? 'check the credentials', required: false });
        continue;
      }
      const missing: string[] = [];
      for (const h of hosts) {
        try {
          await provider.findServer(h.server);
        } catch (e) {
          missing.push(`${h.host}: ${messageOf(e)}`);
        }
      }
      results.push(missing.length
        ? { name, status: 'warn', detail: `${check.detail}; but ${missing.join('; ')}`, fix: 'check [provider] server in those manifests, and that the credentials belong to the server\'s account or project', required: false }
        : { name, status: 'ok', detail: `${check.detail}; finds ${hosts.map((h) => h.host).join(', ')}`, required: false });
    } catch (e) {
      results.push({ name, status: 'warn', detail: messageOf(e), fix: (e as { hint?: string }).hint ?? 'check the credentials', required: false });
    }
  }
  return results;
}

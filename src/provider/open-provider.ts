/**
 * The backend for a host's [provider] section, with its credentials read from the secret store
 * (NAME/token for hetzner-cloud; NAME/user and NAME/password for hetzner-robot; NAME/application-key,
 * NAME/application-secret and NAME/consumer-key for ovh). The base URL is the provider's; only tests override it, through
 * an environment variable named by the backend (BOOTSTRAP_TEST_…), so the request path is the same.
 */
import type { AppContext } from '../context.js';
import { failure } from '../errors.js';
import type { Manifest } from '../manifest/schema.js';
import type { SecretStore } from '../secrets/store.js';
import { HETZNER_CLOUD_URL_ENV, HetznerCloudProvider } from './hetzner-cloud.js';
import { HETZNER_ROBOT_URL_ENV, HetznerRobotProvider } from './hetzner-robot.js';
import { OVH_URL_ENV, OvhProvider } from './ovh.js';
import type { RescueProvider } from './types.js';

export type ProviderSettings = NonNullable<Manifest['provider']>;

/** The secret names a provider kind reads under `credentials`. Pure. */
export function buildCredentialNames(p: ProviderSettings): Record<string, string> {
  switch (p.kind) {
    case 'hetzner-cloud':
      return { token: `${p.credentials}/token` };
    case 'hetzner-robot':
      return { user: `${p.credentials}/user`, password: `${p.credentials}/password` };
    case 'ovh':
      return { applicationKey: `${p.credentials}/application-key`, applicationSecret: `${p.credentials}/application-secret`, consumerKey: `${p.credentials}/consumer-key` };
  }
}

async function read(store: SecretStore, name: string, p: ProviderSettings): Promise<string> {
  const v = await store.get(name);
  if (v === undefined || v.trim() === '') {
    throw failure('provider-credentials-missing', `the ${p.kind} credential ${name} is not in the secret store`, `store it with \`bootstrap secrets set ${name}\` (the value is read from stdin or a prompt, never from argv)`);
  }
  return v.trim();
}

/** @throws failure 'provider-credentials-missing' */
export async function openProvider(app: Pick<AppContext, 'clock' | 'env' | 'signal'>, p: ProviderSettings, store: SecretStore): Promise<RescueProvider> {
  const names = buildCredentialNames(p);
  switch (p.kind) {
    case 'hetzner-cloud': {
      const baseUrl = app.env[HETZNER_CLOUD_URL_ENV];
      return new HetznerCloudProvider({ token: await read(store, names.token!, p), clock: app.clock, signal: app.signal, ...(baseUrl ? { baseUrl } : {}) });
    }
    case 'hetzner-robot': {
      const baseUrl = app.env[HETZNER_ROBOT_URL_ENV];
      return new HetznerRobotProvider({ user: await read(store, names.user!, p), password: await read(store, names.password!, p), clock: app.clock, signal: app.signal, ...(baseUrl ? { baseUrl } : {}) });
    }
    case 'ovh': {
      const baseUrl = app.env[OVH_URL_ENV];
      return new OvhProvider({
        applicationKey: await read(store, names.applicationKey!, p), applicationSecret: await read(store, names.applicationSecret!, p), consumerKey: await read(store, names.consumerKey!, p),
        clock: app.clock, signal: app.signal, ...(p.endpoint ? { endpoint: p.endpoint } : {}), ...(baseUrl ? { baseUrl } : {}),
      });
    }
  }
}

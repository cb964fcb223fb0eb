/**
 * Pure: the client side of the cache for one host, rendered into hosts/HOST/cache.nix (never the
 * user's nix.conf, which is what `attic use` edits). A private cache also gets a netrc file,
 * delivered as the host's secrets mode says, since attic takes the token as the netrc password.
 */
import { nixModule, type NixAttrs } from '../nix/serialize.js';
import type { PlannedFile } from '../render/file-plan.js';
import type { SecretsMode } from '../config/sections/secrets-mode.js';
import { buildSecretDeclarations, buildSecretPath } from './host-secrets.js';

export const CACHE_NETRC_SECRET = 'attic-netrc';

export interface CacheClientPlan {
  host: string;
  /** The host's folder in the flake (config/host-dir.ts hostDir). */
  hostDir: string;
  /** The cache's substituter URL, e.g. https://cache.example.org/main */
  substituter: string;
  /** "main:AAAA…=" as attic's cache-config returns it. */
  publicKey: string;
  /** Private caches need the pull token through netrc. */
  private: boolean;
  secretsMode: SecretsMode;
}

// The key name is the cache name (atticd: NixKeypair::generate(cache_name)), so "+" appears too.
const PUBLIC_KEY = /^[A-Za-z0-9._+-]+:[A-Za-z0-9+/]{43}=$/;

export function buildCacheClientModule(p: CacheClientPlan): PlannedFile {
  const url = new URL(p.substituter);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`substituter must be http(s): ${p.substituter}`);
  if (!PUBLIC_KEY.test(p.publicKey)) throw new TypeError(`not a Nix public key: ${p.publicKey}`);
  const settings: NixAttrs = {
    substituters: [p.substituter],
    'trusted-public-keys': [p.publicKey],
    'netrc-file': p.private ? buildSecretPath(p.secretsMode, CACHE_NETRC_SECRET) : undefined,
  };
  const content = nixModule({
    args: ['config', '...'],
    header: [`Binary cache client for ${p.host}. Rendered by \`bootstrap cache create\`; regenerated.`],
    body: {
      nix: { settings },
      ...(p.private ? buildSecretDeclarations(p.secretsMode, [CACHE_NETRC_SECRET]) : {}),
    },
  });
  return { path: `${p.hostDir}/cache.nix`, content, owner: 'tool' };
}

/**
 * netrc content (a SECRET) for a private cache: attic reads the token as the password. Nix looks
 * the entry up by the host of the URL it downloads from, so `machine` is the host of the
 * substituter the host uses (the cache's substituter endpoint), which can differ from the API
 * URL bootstrap talked to (attic's substituter-endpoint setting, a CDN in front of the cache).
 */
export function buildCacheNetrc(substituter: string, token: string): string {
  return `machine ${new URL(substituter).hostname}\npassword ${token}\n`;
}

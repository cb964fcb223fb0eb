/**
 * Pure renderers for the attic server: hosts/HOST/attic.nix (services.atticd with S3 storage,
 * sqlite, chunking, zstd, garbage collection) and the content of its environment file. Option
 * names follow attic's nixos/atticd.nix and server/src/config-template.toml.
 */
import { nixModule, nixRaw, toNix, type NixAttrs, type NixRaw } from '../nix/serialize.js';
import type { PlannedFile } from '../render/file-plan.js';
import { buildCaTrust, type HostCaCert } from './ca-cert.js';
import type { SecretsMode } from '../config/sections/secrets-mode.js';
import { buildSecretDeclarations, buildSecretPath, secretsModeHeaderWord } from './host-secrets.js';
import { endpointUrl, type S3Settings } from './s3-settings.js';
import type { S3Credentials } from './s3-client.js';

/** The host secret that holds atticd's environment file. */
export const ATTIC_ENV_SECRET = 'attic-env';

export interface AtticServerPlan {
  host: string;
  /** The host's folder in the flake (config/host-dir.ts hostDir). */
  hostDir: string;
  s3: S3Settings;
  /** Public URL of atticd, ending in "/": exposed to clients in cache-config responses. */
  apiEndpoint?: string;
  listen: string;
  secretsMode: SecretsMode;
  /** The storage entry's private CA, rendered next to attic.nix and trusted system-wide. */
  caCert?: HostCaCert;
}

/** attic's defaults from config-template.toml; changing them later hurts deduplication. */
export const ATTIC_CHUNKING = { 'nar-size-threshold': 65536, 'min-size': 16384, 'avg-size': 65536, 'max-size': 262144 };

export function buildAtticSettings(p: AtticServerPlan): NixAttrs {
  const storage: NixAttrs = {
    type: 's3',
    region: p.s3.region,
    bucket: p.s3.bucket,
    // atticd's S3 client needs the endpoint spelled out for everything but AWS.
    endpoint: p.s3.isAws ? undefined : endpointUrl(p.s3),
  };
  const api = p.apiEndpoint ? normalizeApiEndpoint(p.apiEndpoint) : undefined;
  return {
    listen: p.listen,
    'api-endpoint': api,
    'allowed-hosts': api ? [new URL(api).host] : undefined,
    database: { url: 'sqlite:///var/lib/atticd/server.db?mode=rwc' },
    storage,
    chunking: ATTIC_CHUNKING,
    compression: { type: 'zstd' },
    'garbage-collection': { interval: '12 hours', 'default-retention-period': '3 months' },
    // attic from 2023-11 (RS256 tokens) until 2024-10-05 (77f76d5 "Allow omitting jwt section
    // entirely") fails to parse a config without a [jwt] table; an empty one takes the signing key
    // from ATTIC_SERVER_TOKEN_RS256_SECRET_BASE64 in every release, and renders as `[jwt]`.
    jwt: {},
  };
}

/**
 * The environment file option. attic's own module called it `credentialsFile` until 2024-10-14
 * (ebd0618), then `environmentFile` with `credentialsFile` kept as a renamed alias; nixpkgs'
 * services.atticd (NixOS 25.05+) knows only `environmentFile`. The module asks the evaluated
 * option tree which one exists, so one attic.nix works with all three.
 */
export function buildAtticdService(p: AtticServerPlan): NixRaw {
  const common = toNix({ enable: true, settings: buildAtticSettings(p) });
  const path = toNix(buildSecretPath(p.secretsMode, ATTIC_ENV_SECRET));
  return nixRaw(
    `${common}
// (
  if options.services.atticd ? environmentFile then
    { environmentFile = ${path}; }
  else
    { credentialsFile = ${path}; }
)`,
  );
}

/** attic requires the API endpoint to end with a slash. */
export function normalizeApiEndpoint(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`api endpoint must be http(s): ${url}`);
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

export function buildAtticModule(p: AtticServerPlan): PlannedFile {
  const content = nixModule({
    args: ['config', 'options', '...'],
    header: [
      `atticd for the fleet's binary cache on ${p.host}. Rendered by \`bootstrap cache setup\`; regenerated, edit bootstrap.toml instead.`,
      `Storage: ${p.s3.provider} bucket ${p.s3.bucket}. Secrets (signing key, S3 key) come from the ${secretsModeHeaderWord(p.secretsMode)} secret "${ATTIC_ENV_SECRET}".`,
      'Works with nixpkgs\' services.atticd and attic\'s own module, old (credentialsFile) and new (environmentFile).',
      ...(p.caCert ? [`The S3 endpoint's private CA (${p.caCert.fileName}) is added to the system trust store atticd reads.`] : []),
    ],
    body: {
      services: { atticd: buildAtticdService(p) },
      ...buildSecretDeclarations(p.secretsMode, [ATTIC_ENV_SECRET]),
      ...buildCaTrust(p.caCert),
    },
  });
  return { path: `${p.hostDir}/attic.nix`, content, owner: 'tool' };
}

/**
 * The environment file (a SECRET: goes to the secret store, never into the flake). The AWS
 * checksum variables make attic's own S3 client send checksums only when required (B2, R2 and
 * MinIO reject or mangle the default CRC32 ones).
 */
export function buildAtticEnvFile(signingKeyBase64: string, creds: S3Credentials, s3: Pick<S3Settings, 'isAws'>): string {
  const lines = [
    `ATTIC_SERVER_TOKEN_RS256_SECRET_BASE64=${signingKeyBase64}`,
    `AWS_ACCESS_KEY_ID=${creds.accessKeyId.trim()}`,
    `AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey.trim()}`,
  ];
  if (!s3.isAws) lines.push('AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED', 'AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED');
  return lines.join('\n') + '\n';
}

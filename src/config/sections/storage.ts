/** [storage.NAME], [cache] and [backup]: S3 stores, the attic cache and restic targets. */
import { z } from 'zod';

export const storageEntry = z
  .object({
    provider: z.enum(['b2', 'r2', 's3', 'custom', 'local']).describe('S3 provider, or a local directory'),
    bucket: z.string().optional(),
    region: z.string().optional(),
    endpoint: z.string().optional().describe('S3 endpoint URL; derived for b2 from the region, for r2 from accountId'),
    accountId: z.string().optional().describe('Cloudflare account id (r2), used to derive the endpoint'),
    forcePathStyle: z.boolean().optional().describe('path-style bucket URLs (default: on for every provider but s3)'),
    caCert: z.string().optional().describe('PEM file of a private CA that signed the endpoint (self-hosted MinIO)'),
    path: z.string().optional().describe('directory for provider = "local"'),
    credentials: z
      .string()
      .optional()
      .describe('secret store prefix holding access-key-id and secret-access-key (default storage/NAME)'),
  })
  .strict();

export const storageSection = z.record(z.string(), storageEntry).default({});

/** The attic binary cache: which host serves it and where it keeps its chunks. */
export const cacheSection = z
  .object({
    server: z.string().optional().describe('host that runs atticd'),
    storage: z.string().optional().describe('[storage.NAME] entry that holds the cache (default: the only one)'),
    bucket: z.string().optional().describe('bucket for the cache (default: the storage entry\'s bucket)'),
    name: z.string().default('main').describe('attic cache name'),
    url: z.string().optional().describe('public URL of atticd, ending in "/" (e.g. https://cache.example.org/)'),
    listen: z.string().default('[::]:8080').describe('socket address atticd listens on'),
    public: z.boolean().default(false).describe('public caches need no pull token'),
    tokenDays: z.number().int().positive().default(3650).describe('validity of minted tokens, in days'),
  })
  .strict()
  .prefault({});

/** restic backups: where repositories live and what every host keeps. */
export const backupSection = z
  .object({
    storage: z.string().optional().describe('[storage.NAME] entry for restic repositories (default: the only one)'),
    bucket: z.string().optional().describe('bucket for backups (default: the storage entry\'s bucket)'),
    prefix: z.string().default('restic').describe('key prefix; each host gets PREFIX/HOST'),
    paths: z.array(z.string()).default(['/var/lib', '/srv', '/home']).describe('default paths to back up'),
    exclude: z.array(z.string()).default(['/var/lib/systemd', '/var/lib/nixos', '/home/*/.cache']),
    onCalendar: z.string().default('daily').describe('systemd OnCalendar of the backup timer'),
    pruneOpts: z.array(z.string()).default(['--keep-daily 7', '--keep-weekly 5', '--keep-monthly 12']),
    nixpkgsRelease: z
      .string()
      .optional()
      .describe('NixOS release to render options for (default: read from flake.lock, else 25.05)'),
  })
  .strict()
  .prefault({});

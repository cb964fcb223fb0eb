/** [storage.NAME], [cache] and [backup]: S3 stores, the attic cache and restic targets. */
import { z } from 'zod';

export const storageEntry = z
  .object({
    provider: z.enum(['b2', 'r2', 's3', 'custom', 'local']).describe('S3 provider, or a local directory'),
    bucket: z.string().optional(),
    region: z.string().optional(),
    endpoint: z.string().optional().describe('S3 endpoint URL; derived for b2 from the region'),
    path: z.string().optional().describe('directory for provider = "local"'),
    credentials: z.string().optional().describe('secret store name holding the key id and secret'),
  })
  .strict();

export const storageSection = z.record(z.string(), storageEntry).default({});

/**
 * bootstrap.toml at the flake root. Every key is optional: a flake without the file gets the
 * defaults (local age vault, sops). Unknown keys are errors naming their path.
 */
import { z } from 'zod';
import { flakePath } from './flake-path.js';
import { secretsSection, sopsSection } from './sections/secrets.js';
import { backupSection, cacheSection, storageSection } from './sections/storage.js';

export const ConfigSchema = z
  .object({
    hostsDir: flakePath('hosts', 'where host directories live, relative to the flake'),
    stateDir: flakePath('.bootstrap', 'git-ignored journal, locks, logs, known_hosts'),
    secrets: secretsSection,
    sops: sopsSection,
    storage: storageSection,
    cache: cacheSection,
    backup: backupSection,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

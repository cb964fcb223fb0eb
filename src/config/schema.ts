/**
 * bootstrap.toml at the flake root. Every key is optional: a flake without the file gets the
 * defaults (local age vault, sops). Unknown keys are errors naming their path.
 */
import { z } from 'zod';
import { flakePath } from './flake-path.js';
import { DEFAULT_STATE_DIR } from './state-paths.js';
import { isHostName } from '../host-name.js';

import { secretsSection, sopsSection } from './sections/secrets.js';
import { backupSection, cacheSection, storageSection } from './sections/storage.js';
import { tailscaleSection } from './sections/tailscale.js';

export const ConfigSchema = z
  .object({
    hostsDir: flakePath('hosts', 'where host directories live, relative to the flake'),
    stateDir: flakePath(DEFAULT_STATE_DIR, 'git-ignored journal, locks, logs, known_hosts'),
    hosts: z
      .record(
        z.string().refine(isHostName, { message: 'must be a host name: letters, digits and dashes, starting with a letter' }),
        z.object({ dir: flakePath('hosts/NAME', "the host's directory, when it is not <hostsDir>/<host>") }).strict(),
      )
      .default({})
      .describe('per-host settings, e.g. [hosts.hetzner-vps] dir = "hosts/servers/hetzner-cloud"'),
    secrets: secretsSection,
    sops: sopsSection,
    storage: storageSection,
    cache: cacheSection,
    backup: backupSection,
    tailscale: tailscaleSection,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

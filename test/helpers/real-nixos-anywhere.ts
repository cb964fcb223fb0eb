/** Where the real, unmodified nixos-anywhere.sh lives for tests (../shared/nix-src, or $NB_NIXOS_ANYWHERE_SH). */
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const REAL_NIXOS_ANYWHERE = process.env.NB_NIXOS_ANYWHERE_SH ?? join(REPO_ROOT, '../shared/nix-src/nixos-anywhere/src/nixos-anywhere.sh');

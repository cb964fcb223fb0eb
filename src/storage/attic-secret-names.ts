/**
 * Where the fleet's attic secrets live in the secret store (`bootstrap cache setup` writes them;
 * the install and deploy read the pull and push tokens). Pure.
 */
import { ATTIC_ENV_SECRET } from './attic-server.js';
import type { TokenRole } from './attic-tokens.js';
import { hostSecretStoreName } from './host-secrets.js';

/** Secret store names of the fleet's attic secrets. */
export function atticSecretNames(server: string) {
  return {
    signingKey: `attic/${server}/token-rs256-key`,
    tokens: { admin: `attic/${server}/admin-token`, push: `attic/${server}/push-token`, pull: `attic/${server}/pull-token` } as Record<TokenRole, string>,
    env: hostSecretStoreName(server, ATTIC_ENV_SECRET),
  };
}

/**
 * 1Password SDK failures → one-line BootstrapErrors with a hint. The SDK throws
 * RateLimitExceededError / AuthExpiredError / DesktopSessionExpiredError (told apart by class
 * name; their `name` is plain "Error") and plain Errors whose messages come from its WASM core,
 * e.g. "invalid service account token, please make sure you provide a valid service account token
 * as parameter: …", "rate limit exceeded", "you don't have the right permissions to access this
 * resource". Only the first line of a message is kept, and it is redacted on output like all text.
 */
import { failure, isBootstrapError, usageError, type BootstrapError } from '../errors.js';

export const TOKEN_HINT =
  'export OP_SERVICE_ACCOUNT_TOKEN=ops_… (a service account token with read and write access to the vault; ' +
  'create one at https://my.1password.com/developer-tools/infrastructure-secrets/serviceaccount/)';

export function mapOnePasswordError(e: unknown, doing: string): BootstrapError {
  if (isBootstrapError(e)) return e;
  const cls = (e as { constructor?: { name?: string } })?.constructor?.name ?? '';
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
  if (cls === 'RateLimitExceededError' || /rate limit|too many requests|\b429\b/i.test(msg)) {
    return failure('op-rate-limited', `1Password rate limit reached while ${doing}`, 'service accounts may make about 1,000 reads and 100 writes an hour; wait, then run again (each item is read once per run)', e);
  }
  if (cls === 'DesktopSessionExpiredError') {
    return usageError('op-desktop-locked', `the 1Password desktop app session expired while ${doing}`, 'unlock the 1Password app and run again', e);
  }
  if (cls === 'AuthExpiredError' || /service account token|not authenticated|failed to authenticate|\b401\b|unauthori[sz]ed/i.test(msg)) {
    return usageError('op-auth-failed', `1Password rejected the credentials while ${doing}`, TOKEN_HINT, e);
  }
  if (/right permissions|forbidden|\b403\b/i.test(msg)) {
    return usageError('op-forbidden', `1Password denied access while ${doing}`, 'give the service account read and write access to the vault in [secrets.onepassword] vault', e);
  }
  return failure('op-failed', `1Password failed while ${doing}: ${msg}`, 'run again with --debug for details', e);
}

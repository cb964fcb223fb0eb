/**
 * attic tokens, minted locally. attic accepts RS256 JWTs whose claims are `sub`, `exp`, `nbf` and
 * the "https://jwt.attic.rs/v1" claim `{ caches: { PATTERN: { r: 1, w: 1, … } } }` (attic
 * token/src/lib.rs). The signing key is a PKCS#1 RSA PEM; atticd reads it base64-encoded from
 * ATTIC_SERVER_TOKEN_RS256_SECRET_BASE64.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { registerSecret } from '../redact.js';

export const ATTIC_CLAIM = 'https://jwt.attic.rs/v1';

/** r pull, w push, d delete, cc create cache, cr configure cache, cq configure retention, cd destroy cache. */
export type AtticPermission = 'r' | 'w' | 'd' | 'cc' | 'cr' | 'cq' | 'cd';
export const ALL_PERMISSIONS: readonly AtticPermission[] = ['r', 'w', 'd', 'cc', 'cr', 'cq', 'cd'];

export type TokenRole = 'admin' | 'push' | 'pull';

export interface AtticClaims {
  sub: string;
  nbf: number;
  exp: number;
  [ATTIC_CLAIM]: { caches: Record<string, Partial<Record<AtticPermission, 1>>> };
}

export interface SigningKey {
  /** PKCS#1 PEM ("-----BEGIN RSA PRIVATE KEY-----"). */
  pem: string;
  /** What atticd wants in ATTIC_SERVER_TOKEN_RS256_SECRET_BASE64. */
  base64: string;
}

/** A new RS256 signing key. 4096 bits like attic's docs; tests pass 2048 for speed. */
export function generateSigningKey(bits = 4096): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const key = { pem: privateKey, base64: Buffer.from(privateKey, 'utf8').toString('base64') };
  registerSecret(key.pem);
  registerSecret(key.base64);
  return key;
}

export function signingKeyFromPem(pem: string): SigningKey {
  const key = { pem, base64: Buffer.from(pem, 'utf8').toString('base64') };
  registerSecret(key.pem);
  registerSecret(key.base64);
  return key;
}

/** The public half as SPKI PEM (for the attic fake and for checking tokens). */
export function publicKeyPem(key: SigningKey): string {
  return createPublicKey(key.pem).export({ type: 'spki', format: 'pem' }).toString();
}

/** Permissions per role: admin everything on every cache, push r+w, pull r on one cache. */
export function buildRolePermissions(role: TokenRole, cache: string): Record<string, AtticPermission[]> {
  switch (role) {
    case 'admin':
      return { '*': [...ALL_PERMISSIONS] };
    case 'push':
      return { [cache]: ['r', 'w'] };
    case 'pull':
      return { [cache]: ['r'] };
  }
}

/** Pure: the claim set for a token valid from `now` for `days`. */
export function buildAtticClaims(sub: string, caches: Record<string, AtticPermission[]>, now: Date, days: number): AtticClaims {
  const nbf = Math.floor(now.getTime() / 1000);
  const out: AtticClaims[typeof ATTIC_CLAIM]['caches'] = {};
  for (const [pattern, perms] of Object.entries(caches)) {
    out[pattern] = Object.fromEntries(perms.map((p) => [p, 1 as const]));
  }
  return { sub, nbf, exp: nbf + days * 86_400, [ATTIC_CLAIM]: { caches: out } };
}

/** Sign claims with the RS256 key; the token is registered with the redactor. */
export async function mintAtticToken(key: SigningKey, claims: AtticClaims): Promise<string> {
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .sign(createPrivateKey(key.pem));
  registerSecret(token);
  return token;
}

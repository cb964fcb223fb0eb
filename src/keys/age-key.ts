/**
 * age keys for hosts. A host's age recipient is derived from its SSH ed25519 key exactly as
 * ssh-to-age does (ed25519 → X25519 via the birational map, bech32 "age"), so sops-nix can use
 * the SSH host key and the recipient is known before the host exists. The matching identity
 * (AGE-SECRET-KEY-1…) comes from the same seed. A separate, independent X25519 key can also be
 * made for hosts that should keep their secrets across an SSH key rotation.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bech32 } from '@scure/base';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { parsePublicLine } from './ssh-key.js';

/** "age1…" for an ssh-ed25519 public key (raw 32 bytes or an authorized_keys line). */
export function buildAgeRecipientFromSsh(publicKey: Uint8Array | string): string {
  const raw = typeof publicKey === 'string' ? parsePublicLine(publicKey) : publicKey;
  return bech32.encode('age', bech32.toWords(ed25519.utils.toMontgomery(raw)));
}

/** "AGE-SECRET-KEY-1…" for an ed25519 seed. Registered with the redactor. */
export function buildAgeIdentityFromSsh(seed: Uint8Array): string {
  const xSecret = ed25519.utils.toMontgomerySecret(seed);
  const identity = bech32.encode('age-secret-key-', bech32.toWords(xSecret), false).toUpperCase();
  registerSecret(identity);
  return identity;
}

/** A fresh, independent X25519 age key. */
export async function generateAgeKey(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  registerSecret(identity);
  return { identity, recipient: await identityToRecipient(identity) };
}

export function isAgeRecipient(s: string): boolean {
  return /^age1[02-9ac-hj-np-z]{58}$/.test(s);
}

/** The recipient of an AGE-SECRET-KEY-1… identity; a usage error for anything else. */
export async function recipientOfIdentity(identity: string, source: string): Promise<string> {
  if (!/^AGE-SECRET-KEY-1[0-9A-Z]+$/.test(identity)) {
    throw usageError('bad-age-identity', `${source} does not hold an X25519 age identity (AGE-SECRET-KEY-1…)`, 'create one with `age-keygen -o ~/.config/sops/age/keys.txt`');
  }
  try {
    return await identityToRecipient(identity);
  } catch (e) {
    throw usageError('bad-age-identity', `${source} holds a malformed age identity`, 'create a fresh one with `age-keygen -o FILE`', e);
  }
}

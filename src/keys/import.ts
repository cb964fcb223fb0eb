/**
 * Bring existing keys into the secret store (issue 11): a host's current SSH host key, an existing
 * age identity as the host's separate key, or the fleet's shared admin age key. They go under the
 * names `keys ensure` uses, so ensure, new-host, rebuild and recover reuse them.
 *
 * Parse, then plan, then apply: every input is validated and compared with what the store holds
 * before anything is written, so a malformed key or a refused overwrite changes nothing.
 */
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { SecretSource } from '../secrets/secret-input.js';
import type { SecretStore } from '../secrets/store.js';
import { buildAgeIdentityFromSsh, buildAgeRecipientFromSsh, recipientOfIdentity } from './age-key.js';
import { hostSecretNames, SHARED_ADMIN_AGE_NAME } from './host-keys.js';
import { parseOpenSshPrivateKey, type SshKeyPair } from './ssh-key.js';

export interface ImportedSshKey {
  /** The key's armoured text as stored (LF line ends, one trailing newline). Secret. */
  privateKey: string;
  pair: SshKeyPair;
  /** The sops-nix recipient derived from it (ssh-to-age), as for generated keys. */
  recipient: string;
}

export interface ImportedAgeKey {
  /** AGE-SECRET-KEY-1…. Secret. */
  identity: string;
  recipient: string;
}

export interface ParsedImport {
  ssh?: ImportedSshKey;
  age?: ImportedAgeKey;
  sharedAge?: ImportedAgeKey;
}

export type ImportKind = 'ssh' | 'age' | 'sharedAge';

export interface ImportItem {
  kind: ImportKind;
  name: string;
  ref: string;
  /** import: new; replace: a different key was there (--force); unchanged: the same key is there. */
  action: 'import' | 'replace' | 'unchanged';
  /** The public value to show: fingerprint or age recipient. */
  shown: string;
}

const ARMOUR = /-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]*?-----END OPENSSH PRIVATE KEY-----/;

/** Validate an OpenSSH ed25519 private key file's text; derive its public key, fingerprint and age recipient. */
export function parseImportedSshKey(input: SecretSource): ImportedSshKey {
  const text = input.text.replace(/\r\n/g, '\n');
  const armour = ARMOUR.exec(text)?.[0];
  const pair = parseOpenSshPrivateKey(armour ?? text, input.source);
  const privateKey = `${armour}\n`;
  registerSecret(privateKey);
  registerSecret(buildAgeIdentityFromSsh(pair.seed)); // the derived identity is as secret as the key
  return { privateKey, pair, recipient: buildAgeRecipientFromSsh(pair.publicRaw) };
}

/**
 * The one AGE-SECRET-KEY-1… of an age key file (age-keygen's output: `#` comment lines, then the
 * identity), checked with the age library. Zero or several identities are usage errors.
 */
export async function parseImportedAgeKey(input: SecretSource): Promise<ImportedAgeKey> {
  const lines = input.text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const l of lines) registerSecret(l);
  const hint = 'pass a file with one X25519 identity, as `age-keygen -o FILE` writes it';
  if (lines.length === 0) throw usageError('bad-age-identity', `${input.source} holds no age identity (AGE-SECRET-KEY-1…)`, hint);
  if (lines.length > 1) throw usageError('bad-age-identity', `${input.source} holds ${lines.length} lines besides comments; import one age identity at a time`, hint);
  const identity = lines[0]!;
  return { identity, recipient: await recipientOfIdentity(identity, input.source) };
}

/** Where each kind goes in the store: the names `keys ensure` reads. */
export function importTargetName(kind: ImportKind, host: string | undefined): string {
  if (kind === 'sharedAge') return SHARED_ADMIN_AGE_NAME;
  if (!host) throw new Error(`a host is needed to import ${kind}`);
  return kind === 'ssh' ? hostSecretNames(host).sshKey : hostSecretNames(host).ageKey;
}

/** The public value of what the store holds under `name`, to compare and to name in errors. */
async function existingPublic(store: SecretStore, kind: ImportKind, name: string): Promise<{ same: (p: ParsedImport) => boolean; shown: string } | undefined> {
  const value = await store.get(name);
  if (value === undefined) return undefined;
  if (kind === 'ssh') {
    try {
      const old = parseOpenSshPrivateKey(value, store.refOf(name));
      const recipient = buildAgeRecipientFromSsh(old.publicRaw);
      return { same: (p) => Buffer.from(p.ssh!.pair.seed).equals(Buffer.from(old.seed)), shown: `${old.fingerprint}, age recipient ${recipient}` };
    } catch {
      return { same: () => false, shown: 'an unreadable key' };
    }
  }
  const identity = value.trim();
  const recipient = await recipientOfIdentity(identity, store.refOf(name)).catch(() => 'an unreadable identity');
  return { same: (p) => (kind === 'age' ? p.age : p.sharedAge)!.identity === identity, shown: recipient };
}

const WHAT: Record<ImportKind, string> = { ssh: 'SSH host key', age: 'age identity', sharedAge: 'shared admin age key' };

/**
 * Compare each parsed key with the store. A different key already there is a one-line usage error
 * unless `force`. Reads only.
 */
export async function planKeyImport(store: SecretStore, host: string | undefined, parsed: ParsedImport, force: boolean): Promise<ImportItem[]> {
  const items: ImportItem[] = [];
  for (const kind of ['ssh', 'age', 'sharedAge'] as const) {
    const key = parsed[kind];
    if (!key) continue;
    const name = importTargetName(kind, host);
    const shown = kind === 'ssh' ? parsed.ssh!.pair.fingerprint : (key as ImportedAgeKey).recipient;
    const old = await existingPublic(store, kind, name);
    let action: ImportItem['action'] = 'import';
    if (old?.same(parsed)) action = 'unchanged';
    else if (old && !force) {
      const consequence =
        kind === 'sharedAge'
          ? 'every host then gets the new key on its next install, and secrets encrypted to the old one must be re-encrypted (sops updatekeys)'
          : `secrets encrypted to the old ${kind === 'ssh' ? "key's age recipient" : 'recipient'} must then be re-encrypted to the new one (sops updatekeys / agenix --rekey)`;
      throw usageError('key-exists', `${name} already holds a different ${WHAT[kind]} (${old.shown}); --force replaces it, and ${consequence}`);
    } else if (old) action = 'replace';
    items.push({ kind, name, ref: store.refOf(name), action, shown });
  }
  return items;
}

/** Write the planned keys. Unchanged ones are not rewritten. */
export async function applyKeyImport(store: SecretStore, parsed: ParsedImport, items: ImportItem[]): Promise<void> {
  for (const item of items) {
    if (item.action === 'unchanged') continue;
    if (item.kind === 'ssh') {
      await store.put(item.name, parsed.ssh!.privateKey, { kind: 'ssh-key', publicValue: parsed.ssh!.pair.publicKey });
    } else {
      const k = (item.kind === 'age' ? parsed.age : parsed.sharedAge)!;
      await store.put(item.name, k.identity, { kind: 'password', publicValue: k.recipient });
    }
  }
}

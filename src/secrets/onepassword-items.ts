/**
 * 1Password items as bootstrap uses them: the slice of the SDK's client it calls (same names and
 * shapes as @1password/sdk 0.5, so the real client and the test fake both fit), and how a store
 * name becomes an item (title, category, field, key format). Pure apart from the PEM export.
 */
import { createPrivateKey } from 'node:crypto';
import { parseOpenSshPrivateKey } from '../keys/ssh-key.js';
import { registerSecret } from '../redact.js';
import type { SecretMeta } from './store.js';

/** The slice of the SDK's Client this backend uses (same names and shapes as @1password/sdk 0.5). */
export interface OpField {
  id: string;
  title: string;
  sectionId?: string;
  fieldType: string;
  value: string;
  details?: { type: string; content?: { publicKey?: string; fingerprint?: string; keyType?: string } };
}
export interface OpItem {
  id: string;
  title: string;
  category: string;
  vaultId: string;
  fields: OpField[];
  sections: { id: string; title: string }[];
  notes: string;
  tags: string[];
  [k: string]: unknown;
}
export interface OpItemCreateParams {
  category: string;
  vaultId: string;
  title: string;
  fields?: OpField[];
  notes?: string;
  tags?: string[];
}
export interface OpClient {
  secrets: { resolve(reference: string): Promise<string> };
  items: {
    create(params: OpItemCreateParams): Promise<OpItem>;
    get(vaultId: string, itemId: string): Promise<OpItem>;
    put(item: OpItem): Promise<OpItem>;
    list(vaultId: string): Promise<{ id: string; title: string; category: string }[]>;
  };
  vaults: { list(): Promise<{ id: string; title: string }[]> };
}

export type OpAuth = { kind: 'token'; token: string } | { kind: 'desktop'; account: string };
export type OpClientFactory = (auth: OpAuth) => Promise<OpClient>;

export type Kind = NonNullable<SecretMeta['kind']>;
export const FIELD: Record<Kind, { category: string; id: string; title: string; fieldType: string }> = {
  'ssh-key': { category: 'SshKey', id: 'private_key', title: 'private key', fieldType: 'SshKey' },
  password: { category: 'Password', id: 'password', title: 'password', fieldType: 'Concealed' },
  'api-credential': { category: 'ApiCredentials', id: 'credential', title: 'credential', fieldType: 'Concealed' },
  note: { category: 'SecureNote', id: 'notesPlain', title: 'notesPlain', fieldType: 'Text' },
};
export const KIND_OF_CATEGORY: Record<string, Kind> = { SshKey: 'ssh-key', Password: 'password', ApiCredentials: 'api-credential', SecureNote: 'note' };
export const TAG = 'nixos-bootstrap';

/** Pure: the item title for a store name. hosts/web1/ssh_host_ed25519_key → "web1 ssh host key". */
export function buildItemTitle(name: string): string {
  const host = /^hosts\/([^/]+)\/(.+)$/.exec(name);
  if (host) {
    const friendly: Record<string, string> = { ssh_host_ed25519_key: 'ssh host key', age_key: 'age key', luks_passphrase: 'luks passphrase' };
    return `${host[1]} ${friendly[host[2]!] ?? host[2]!.replace(/[_/]/g, ' ')}`;
  }
  return name.replace(/[_/]/g, ' ');
}

/** Pure: the kind a name has when none was given (host SSH keys are SSH keys, the rest passwords). */
export function kindOfName(name: string): Kind {
  return /ssh_host_\w+_key$|_ssh_key$/.test(name) ? 'ssh-key' : 'password';
}

/** OpenSSH ed25519 → PKCS#8 PEM, the format the SDK accepts for SSH Key fields. */
export function buildPkcs8Pem(opensshKey: string): string {
  const { seed } = parseOpenSshPrivateKey(opensshKey, 'the SSH key to store');
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
  registerSecret(pem);
  return pem;
}

/** The SDK's error for HTTP 429 (RateLimitExceededError; the message is "rate limit exceeded"). */
export function isRateLimited(e: unknown): boolean {
  const cls = (e as { constructor?: { name?: string } })?.constructor?.name ?? '';
  const msg = e instanceof Error ? e.message : String(e);
  return cls === 'RateLimitExceededError' || /rate limit|too many requests|\b429\b/i.test(msg.split('\n')[0]!);
}

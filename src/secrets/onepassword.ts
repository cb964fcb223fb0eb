/**
 * The `onepassword` secret store, on @1password/sdk. One item per secret, titled predictably per
 * host ("web1 ssh host key", "web1 age key", "web1 luks passphrase"); SSH keys are SSH Key items
 * (the SDK wants PKCS#8 PEM in, and hands OpenSSH back with `?ssh-format=openssh`), other secrets
 * are Password, Secure Note or API Credential items. References print as op://VAULT/ITEM/FIELD.
 *
 * Service accounts are rate limited (about 1,000 reads and 100 writes an hour), so each run lists
 * the vault once and reads each item at most once; everything read or written is cached here.
 * The SDK client comes from an injected factory: the real one (onepassword-client.ts) loads the
 * 14 MB WASM SDK lazily; the test suite injects a fake.
 */
import { createPrivateKey } from 'node:crypto';
import { usageError } from '../errors.js';
import { parseOpenSshPrivateKey } from '../keys/ssh-key.js';
import { registerSecret } from '../redact.js';
import { mapOnePasswordError } from './onepassword-errors.js';
import { assertSecretName, type HealthResult, type SecretMeta, type SecretStore } from './store.js';

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

type Kind = NonNullable<SecretMeta['kind']>;
const FIELD: Record<Kind, { category: string; id: string; title: string; fieldType: string }> = {
  'ssh-key': { category: 'SshKey', id: 'private_key', title: 'private key', fieldType: 'SshKey' },
  password: { category: 'Password', id: 'password', title: 'password', fieldType: 'Concealed' },
  'api-credential': { category: 'ApiCredentials', id: 'credential', title: 'credential', fieldType: 'Concealed' },
  note: { category: 'SecureNote', id: 'notesPlain', title: 'notesPlain', fieldType: 'Text' },
};
const KIND_OF_CATEGORY: Record<string, Kind> = { SshKey: 'ssh-key', Password: 'password', ApiCredentials: 'api-credential', SecureNote: 'note' };
const TAG = 'nixos-bootstrap';

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

export interface OnePasswordOptions {
  vault: string;
  auth: OpAuth;
  factory: OpClientFactory;
}

export class OnePasswordStore implements SecretStore {
  readonly kind = 'onepassword' as const;
  private client: Promise<OpClient> | undefined;
  private vaultId: Promise<string> | undefined;
  private index: Promise<Map<string, { id: string; category: string }>> | undefined;
  private readonly items = new Map<string, Promise<OpItem>>();
  private readonly values = new Map<string, string>();
  private readonly kinds = new Map<string, Kind>();

  constructor(private readonly opts: OnePasswordOptions) {}

  private kindOf(name: string): Kind {
    return this.kinds.get(name) ?? kindOfName(name);
  }

  refOf(name: string): string {
    assertSecretName(name);
    return `op://${this.opts.vault}/${buildItemTitle(name)}/${FIELD[this.kindOf(name)].title}`;
  }

  private sdk(): Promise<OpClient> {
    this.client ??= this.opts.factory(this.opts.auth).catch((e) => {
      throw mapOnePasswordError(e, 'signing in');
    });
    return this.client;
  }

  private async call<T>(doing: string, fn: (c: OpClient) => Promise<T>): Promise<T> {
    const c = await this.sdk();
    try {
      return await fn(c);
    } catch (e) {
      throw mapOnePasswordError(e, doing);
    }
  }

  private vault(): Promise<string> {
    this.vaultId ??= this.call('listing vaults', (c) => c.vaults.list()).then((vaults) => {
      const v = vaults.find((x) => x.id === this.opts.vault) ?? vaults.find((x) => x.title === this.opts.vault);
      if (!v) {
        const seen = vaults.map((x) => x.title).join(', ') || 'none';
        throw usageError('op-vault-missing', `1Password vault "${this.opts.vault}" not found (the credentials can see: ${seen})`, 'create the vault and grant the service account access, or fix [secrets.onepassword] vault in bootstrap.toml');
      }
      return v.id;
    });
    return this.vaultId;
  }

  /** One list call per run: title → item id. */
  private lookup(): Promise<Map<string, { id: string; category: string }>> {
    this.index ??= this.vault().then(async (vaultId) => {
      const list = await this.call(`listing items in ${this.opts.vault}`, (c) => c.items.list(vaultId));
      return new Map(list.map((i) => [i.title, { id: i.id, category: i.category }]));
    });
    return this.index;
  }

  private item(name: string, id: string): Promise<OpItem> {
    let p = this.items.get(name);
    if (!p) {
      p = this.vault().then((vaultId) => this.call(`reading "${buildItemTitle(name)}"`, (c) => c.items.get(vaultId, id)));
      this.items.set(name, p);
    }
    return p;
  }

  async exists(name: string): Promise<boolean> {
    return this.values.has(name) || (await this.lookup()).has(buildItemTitle(name));
  }

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    if (this.values.has(name)) return this.values.get(name);
    const entry = (await this.lookup()).get(buildItemTitle(name));
    if (!entry) return undefined;
    const kind = KIND_OF_CATEGORY[entry.category] ?? 'password';
    this.kinds.set(name, kind);
    let value: string | undefined;
    if (kind === 'ssh-key') {
      const vaultId = await this.vault();
      value = await this.call(`reading "${buildItemTitle(name)}"`, (c) => c.secrets.resolve(`op://${vaultId}/${entry.id}/private key?ssh-format=openssh`));
    } else {
      const item = await this.item(name, entry.id);
      value = kind === 'note' ? item.notes : item.fields.find((f) => f.id === FIELD[kind].id)?.value;
    }
    if (value === undefined) throw usageError('op-item-malformed', `1Password item "${buildItemTitle(name)}" has no ${FIELD[kind].title} field`, 'delete or fix the item, then run again');
    registerSecret(value);
    this.values.set(name, value);
    return value;
  }

  async getPublic(name: string): Promise<string | undefined> {
    const entry = (await this.lookup()).get(buildItemTitle(name));
    if (!entry) return undefined;
    const item = await this.item(name, entry.id);
    const ssh = item.fields.find((f) => f.fieldType === 'SshKey');
    return ssh?.details?.content?.publicKey ?? item.fields.find((f) => f.id === 'public')?.value;
  }

  async put(name: string, value: string, meta: SecretMeta = {}): Promise<string> {
    assertSecretName(name);
    registerSecret(value);
    const kind = meta.kind ?? kindOfName(name);
    this.kinds.set(name, kind);
    const spec = FIELD[kind];
    const stored = kind === 'ssh-key' ? buildPkcs8Pem(value) : value;
    const fields: OpField[] = kind === 'note' ? [] : [{ id: spec.id, title: spec.title, fieldType: spec.fieldType, value: stored }];
    if (meta.publicValue !== undefined && kind !== 'ssh-key') fields.push({ id: 'public', title: 'public', fieldType: 'Text', value: meta.publicValue });
    const title = buildItemTitle(name);
    const vaultId = await this.vault();
    const index = await this.lookup();
    const existing = index.get(title);
    let saved: OpItem;
    if (existing && existing.category === spec.category) {
      const item = await this.item(name, existing.id);
      const keep = item.fields.filter((f) => !fields.some((n) => n.id === f.id));
      saved = await this.call(`updating "${title}"`, (c) => c.items.put({ ...item, fields: [...keep, ...fields], ...(kind === 'note' ? { notes: value } : {}) }));
    } else {
      if (existing) throw usageError('op-item-conflict', `1Password item "${title}" exists with category ${existing.category}, expected ${spec.category}`, `rename or delete "${title}" in vault ${this.opts.vault}, then run again`);
      const params: OpItemCreateParams = { category: spec.category, vaultId, title, fields, tags: [TAG], ...(kind === 'note' ? { notes: value } : {}) };
      saved = await this.call(`creating "${title}"`, (c) => c.items.create(params));
    }
    index.set(title, { id: saved.id, category: saved.category });
    this.items.set(name, Promise.resolve(saved));
    this.values.set(name, value);
    return this.refOf(name);
  }

  async healthCheck(): Promise<HealthResult> {
    try {
      await this.vault();
      return { kind: 'ok', detail: `1Password vault ${this.opts.vault} (${this.opts.auth.kind === 'token' ? 'service account' : 'desktop app'})` };
    } catch (e) {
      const err = mapOnePasswordError(e, 'checking the vault');
      const hint = err.hint ?? '';
      return err.kind === 'usage' ? { kind: 'needs-setup', detail: err.message, hint } : { kind: 'unreachable', detail: err.message, hint };
    }
  }
}

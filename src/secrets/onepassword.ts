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
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { buildItemTitle, buildPkcs8Pem, FIELD, isRateLimited, KIND_OF_CATEGORY, kindOfName, TAG, type Kind, type OpAuth, type OpClient, type OpClientFactory, type OpField, type OpItem, type OpItemCreateParams } from './onepassword-items.js';
import { mapOnePasswordError } from './onepassword-errors.js';
import { checkOpReference, parseOpReference, showOpReference } from './op-reference.js';
import { assertSecretName, type HealthResult, type SecretMeta, type SecretStore } from './store.js';

export interface OnePasswordOptions {
  vault: string;
  auth: OpAuth;
  factory: OpClientFactory;
  /** Waits between retries of a rate-limited call (the app clock; tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** Retries of a rate-limited call and the first delay, doubled each time (default 4 × from 1 s: at most 15 s of waiting). */
  retry?: { attempts: number; firstDelayMs: number };
}

type Entry = { id: string; title: string; category: string };

/** What an existing item holds at a reference: the value and, for SSH keys, the public half. */
export interface OpRefValue {
  value: string;
  publicKey?: string;
  /** The item's id and vault, for messages. */
  itemId: string;
}

const DEFAULT_RETRY = { attempts: 4, firstDelayMs: 1000 };

const fold = (s: string) => s.toLowerCase();

export class OnePasswordStore implements SecretStore {
  readonly kind = 'onepassword' as const;
  private client: Promise<OpClient> | undefined;
  private vaultList: Promise<{ id: string; title: string }[]> | undefined;
  private readonly itemLists = new Map<string, Promise<Map<string, Entry[]>>>();
  private readonly items = new Map<string, Promise<OpItem>>();
  private readonly values = new Map<string, string>();
  private readonly kinds = new Map<string, Kind>();

  constructor(private readonly opts: OnePasswordOptions) {}

  private kindOf(name: string): Kind {
    return this.kinds.get(name) ?? kindOfName(name);
  }

  /**
   * op://VAULT/TITLE/FIELD, checked with the one reference parser: a vault name references cannot
   * hold is refused here, before anything is written (issue 11).
   * @throws usageError 'bad-op-reference'
   */
  refOf(name: string): string {
    assertSecretName(name);
    const text = `op://${this.opts.vault}/${buildItemTitle(name)}/${FIELD[this.kindOf(name)].title}`;
    const parsed = parseOpReference(text);
    if (!parsed.ok) {
      throw usageError('bad-op-reference', `cannot reference ${name} in 1Password: ${parsed.reason}`, `set [secrets.onepassword] vault in bootstrap.toml to the vault's id (references hold only letters, digits, spaces, - _ .)`);
    }
    return text;
  }

  private sdk(): Promise<OpClient> {
    this.client ??= this.opts.factory(this.opts.auth).catch((e) => {
      throw mapOnePasswordError(e, 'signing in');
    });
    return this.client;
  }

  /** One SDK call; a rate-limited one is retried with doubling delays, a bounded number of times. */
  private async call<T>(doing: string, fn: (c: OpClient) => Promise<T>): Promise<T> {
    const c = await this.sdk();
    const retry = this.opts.retry ?? DEFAULT_RETRY;
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(c);
      } catch (e) {
        if (isRateLimited(e) && attempt < retry.attempts) {
          await sleep(retry.firstDelayMs * 2 ** attempt);
          continue;
        }
        const err = mapOnePasswordError(e, doing);
        if (attempt > 0 && err.code === 'op-rate-limited') err.message += ` (still limited after ${attempt} retries)`;
        throw err;
      }
    }
  }

  private vaults(): Promise<{ id: string; title: string }[]> {
    this.vaultList ??= this.call('listing vaults', (c) => c.vaults.list());
    return this.vaultList;
  }

  /** A vault by id or title (titles match case-insensitively, as references do). */
  private async vaultOf(nameOrId: string, from: string): Promise<string> {
    const vaults = await this.vaults();
    const v = vaults.find((x) => x.id === nameOrId) ?? vaults.find((x) => fold(x.title) === fold(nameOrId));
    if (!v) {
      const seen = vaults.map((x) => x.title).join(', ') || 'none';
      throw usageError('op-vault-missing', `1Password vault "${nameOrId}" not found (the credentials can see: ${seen})`, from === 'config' ? 'create the vault and grant the service account access, or fix [secrets.onepassword] vault in bootstrap.toml' : `grant the service account access to the vault, or fix ${from}`);
    }
    return v.id;
  }

  private vault(): Promise<string> {
    return this.vaultOf(this.opts.vault, 'config');
  }

  /** One list call per vault per run: folded title → items (several when titles repeat). */
  private lookup(vaultId?: string): Promise<Map<string, Entry[]>> {
    const load = async (id: string) => {
      let p = this.itemLists.get(id);
      if (!p) {
        p = this.call('listing items', (c) => c.items.list(id)).then((list) => {
          const m = new Map<string, Entry[]>();
          for (const i of list) m.set(fold(i.title), [...(m.get(fold(i.title)) ?? []), { id: i.id, title: i.title, category: i.category }]);
          return m;
        });
        this.itemLists.set(id, p);
      }
      return p;
    };
    return vaultId ? load(vaultId) : this.vault().then(load);
  }

  /**
   * The one item titled `title`, or undefined. The SDK lets a vault hold several items with one
   * title, and a reference by title then matches more than one: refuse, naming the item ids.
   * @throws usageError 'op-item-ambiguous'
   */
  private unique(index: Map<string, Entry[]>, title: string, vault: string, ref: string): Entry | undefined {
    const found = index.get(fold(title)) ?? [];
    if (found.length > 1) {
      throw usageError(
        'op-item-ambiguous',
        `1Password vault ${vault} has ${found.length} items titled "${title}" (ids ${found.map((f) => f.id).join(', ')}), so ${ref} is ambiguous`,
        `archive or rename all but one of them, or reference the item by id, e.g. ${ref.replace(`/${title}/`, `/${found[0]!.id}/`)}`,
      );
    }
    return found[0];
  }

  private async entryOf(name: string): Promise<Entry | undefined> {
    return this.unique(await this.lookup(), buildItemTitle(name), this.opts.vault, this.refOf(name));
  }

  private item(key: string, vaultId: string, id: string, title: string): Promise<OpItem> {
    let p = this.items.get(key);
    if (!p) {
      p = this.call(`reading "${title}"`, (c) => c.items.get(vaultId, id));
      this.items.set(key, p);
    }
    return p;
  }

  async exists(name: string): Promise<boolean> {
    return this.values.has(name) || (await this.entryOf(name)) !== undefined;
  }

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    if (this.values.has(name)) return this.values.get(name);
    const entry = await this.entryOf(name);
    if (!entry) return undefined;
    const kind = KIND_OF_CATEGORY[entry.category] ?? 'password';
    this.kinds.set(name, kind);
    const vaultId = await this.vault();
    let value: string | undefined;
    if (kind === 'ssh-key') {
      value = await this.call(`reading "${buildItemTitle(name)}"`, (c) => c.secrets.resolve(`op://${vaultId}/${entry.id}/private key?ssh-format=openssh`));
    } else {
      const item = await this.item(name, vaultId, entry.id, entry.title);
      value = kind === 'note' ? item.notes : item.fields.find((f) => f.id === FIELD[kind].id)?.value;
    }
    if (value === undefined) throw usageError('op-item-malformed', `1Password item "${buildItemTitle(name)}" has no ${FIELD[kind].title} field`, 'delete or fix the item, then run again');
    registerSecret(value);
    this.values.set(name, value);
    return value;
  }

  async getPublic(name: string): Promise<string | undefined> {
    const entry = await this.entryOf(name);
    if (!entry) return undefined;
    const item = await this.item(name, await this.vault(), entry.id, entry.title);
    const ssh = item.fields.find((f) => f.fieldType === 'SshKey');
    return ssh?.details?.content?.publicKey ?? item.fields.find((f) => f.id === 'public')?.value;
  }

  /**
   * The value an existing item holds at a user-given reference (e.g. [secrets] sshHostKey in a host
   * manifest), with the public half of an SSH key. Vault and item match by id or title, the field
   * (and section) by id or title, case-insensitively as 1Password does; an SSH Key field is read in
   * OpenSSH format. A missing vault, item or field is a one-line usage error naming the reference.
   * @throws usageError 'bad-op-reference' | 'op-vault-missing' | 'op-ref-missing' | 'op-item-ambiguous'
   */
  async readRef(reference: string, where: string): Promise<OpRefValue> {
    const ref = checkOpReference(reference, where);
    const shown = showOpReference(reference);
    const vaultId = await this.vaultOf(ref.vault, where);
    const index = await this.lookup(vaultId);
    const byId = [...index.values()].flat().find((e) => e.id === ref.item);
    const entry = byId ?? this.unique(index, ref.item, ref.vault, reference);
    const fix = `create it in 1Password, or fix ${where}`;
    if (!entry) throw usageError('op-ref-missing', `${where}: no item "${ref.item}" in 1Password vault ${ref.vault} (${shown})`, fix);
    const item = await this.item(`ref:${vaultId}/${entry.id}`, vaultId, entry.id, entry.title);
    const section = ref.section === undefined ? undefined : item.sections.find((x) => x.id === ref.section || fold(x.title) === fold(ref.section!));
    if (ref.section !== undefined && !section) throw usageError('op-ref-missing', `${where}: 1Password item "${entry.title}" has no section "${ref.section}" (${shown})`, fix);
    const fields = item.fields.filter((f) => (section ? f.sectionId === section.id : true) && (f.id === ref.field || fold(f.title) === fold(ref.field)));
    // An SSH Key item's "public key" is an attribute of its key field, which references reach as
    // op://vault/item/public key (SDK 0.1.6: "SSH key attributes in secret references"): issue 21's
    // --login-key op://…/public key. Public: not registered as a secret.
    const sshKey = item.fields.find((f) => f.fieldType === 'SshKey');
    if (!fields.length && fold(ref.field) === 'public key' && sshKey?.details?.content?.publicKey) {
      return { value: sshKey.details.content.publicKey, itemId: entry.id, publicKey: sshKey.details.content.publicKey };
    }
    if (fields.length !== 1) {
      const what = fields.length ? `${fields.length} fields named "${ref.field}"` : `no field "${ref.field}"`;
      throw usageError('op-ref-missing', `${where}: 1Password item "${entry.title}" has ${what} (${shown})`, fields.length ? `reference the field by id (op://${ref.vault}/${ref.item}/${fields[0]!.id})` : fix);
    }
    const field = fields[0]!;
    let value = field.value;
    if (field.fieldType === 'SshKey') {
      const exact = `op://${vaultId}/${entry.id}/${field.sectionId && section ? `${section.id}/` : ''}${field.id}?ssh-format=openssh`;
      value = await this.call(`reading "${entry.title}"`, (c) => c.secrets.resolve(exact));
    }
    registerSecret(value);
    const publicKey = field.details?.content?.publicKey ?? item.fields.find((f) => f.id === 'public' || fold(f.title) === 'public key')?.value;
    return { value, itemId: entry.id, ...(publicKey ? { publicKey } : {}) };
  }

  async put(name: string, value: string, meta: SecretMeta = {}): Promise<string> {
    assertSecretName(name);
    registerSecret(value);
    const kind = meta.kind ?? kindOfName(name);
    this.kinds.set(name, kind);
    const ref = this.refOf(name); // the reference we will record: refused here, before any write
    const spec = FIELD[kind];
    const stored = kind === 'ssh-key' ? buildPkcs8Pem(value) : value;
    const fields: OpField[] = kind === 'note' ? [] : [{ id: spec.id, title: spec.title, fieldType: spec.fieldType, value: stored }];
    if (meta.publicValue !== undefined && kind !== 'ssh-key') fields.push({ id: 'public', title: 'public', fieldType: 'Text', value: meta.publicValue });
    const title = buildItemTitle(name);
    const vaultId = await this.vault();
    const index = await this.lookup();
    const existing = this.unique(index, title, this.opts.vault, ref);
    let saved: OpItem;
    if (existing && existing.category === spec.category) {
      const item = await this.item(name, vaultId, existing.id, existing.title);
      const keep = item.fields.filter((f) => !fields.some((n) => n.id === f.id));
      saved = await this.call(`updating "${title}"`, (c) => c.items.put({ ...item, fields: [...keep, ...fields], ...(kind === 'note' ? { notes: value } : {}) }));
    } else {
      if (existing) throw usageError('op-item-conflict', `1Password item "${title}" exists with category ${existing.category}, expected ${spec.category}`, `rename or delete "${title}" in vault ${this.opts.vault}, then run again`);
      const params: OpItemCreateParams = { category: spec.category, vaultId, title, fields, tags: [TAG], ...(kind === 'note' ? { notes: value } : {}) };
      saved = await this.call(`creating "${title}"`, (c) => c.items.create(params));
    }
    index.set(fold(title), [{ id: saved.id, title: saved.title, category: saved.category }]);
    this.items.set(name, Promise.resolve(saved));
    this.values.set(name, value);
    return ref;
  }

  /** The service account token this store signs in with (handed to OpNix hosts), if any. */
  serviceAccountToken(): string | undefined {
    return this.opts.auth.kind === 'token' ? this.opts.auth.token : undefined;
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

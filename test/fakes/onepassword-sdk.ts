/**
 * FAKE 1Password SDK client, for the test suite only (1Password cannot run here). It mirrors
 * @1password/sdk 0.5's shapes and checks: category and field-type enums, vault ids, SSH keys
 * accepted as PKCS#8 PEM and returned with computed details, secret references with
 * `?ssh-format=openssh`, and the SDK's error classes and core messages for a bad token and rate
 * limiting. Every call is recorded so contract tests can assert what the backend sends.
 *
 * Strict where the real SDK is (issue 11): secret references go through the real SDK's own
 * offline validator (Secrets.validateSecretReference, the WASM core, no network) before anything
 * else; names match case-insensitively, as 1Password's do; a vault may hold several items with one
 * title (the SDK allows it), and a reference by such a title fails to resolve; `rateLimited`
 * answers the next N calls the way the SDK does on HTTP 429 (RateLimitExceededError "rate limit
 * exceeded"). `save`/`load` keep the state in a JSON file for the CLI module
 * (onepassword-sdk-module.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { buildFingerprint, buildOpenSshPrivateKey, buildPublicLine } from '../../src/keys/ssh-key.js';
import type { OpAuth, OpClient, OpField, OpItem, OpItemCreateParams } from '../../src/secrets/onepassword-items.js';

// Same class names as the SDK's (the backend tells them apart by constructor name).
export class RateLimitExceededError extends Error {}
export class AuthExpiredError extends Error {}

const CATEGORIES = ['Login', 'SecureNote', 'CreditCard', 'CryptoWallet', 'Identity', 'Password', 'Document', 'ApiCredentials', 'BankAccount', 'Database', 'DriverLicense', 'Email', 'MedicalRecord', 'Membership', 'OutdoorLicense', 'Passport', 'Rewards', 'Router', 'Server', 'SshKey', 'SocialSecurityNumber', 'SoftwareLicense', 'Person'];
const FIELD_TYPES = ['Text', 'Concealed', 'CreditCardType', 'CreditCardNumber', 'Phone', 'Url', 'Totp', 'Email', 'Reference', 'SshKey', 'Menu', 'MonthYear', 'Address', 'Date'];

export interface FakeCall {
  method: string;
  args: unknown[];
}

// The real SDK's reference validator (CommonJS; loads its WASM core on first use, offline).
const sdkSecrets = createRequire(import.meta.url)('@1password/sdk') as { Secrets: { validateSecretReference(r: string): void } };

/** Throws what the real SDK throws for a reference it cannot parse. */
export function validateWithRealSdk(reference: string): void {
  try {
    sdkSecrets.Secrets.validateSecretReference(reference);
  } catch (e) {
    // The core throws a JSON string {name, message}; the SDK's throwError turns it into an Error.
    let message = String(e);
    try {
      message = (JSON.parse(String(e)) as { message: string }).message;
    } catch {
      /* not JSON */
    }
    throw new Error(`error resolving secret reference: ${message}`);
  }
}

const fold = (s: string) => s.toLowerCase();

function uuid(): string {
  return randomBytes(16).toString('base64').replace(/[^a-z2-7]/gi, '').toLowerCase().padEnd(26, 'a').slice(0, 26);
}

export class FakeOnePassword {
  readonly calls: FakeCall[] = [];
  readonly vaults: { id: string; title: string }[];
  readonly items = new Map<string, OpItem>();
  reads = 0;
  writes = 0;
  /** Reads allowed before the fake answers like a rate-limited service account. */
  readLimit = Infinity;
  writeLimit = Infinity;
  /** The next N calls fail as rate limited (HTTP 429), then calls succeed again. */
  rateLimited = 0;
  /** Where save() writes the state (the CLI module sets it). */
  stateFile: string | undefined;

  constructor(readonly validToken = 'ops_fake_token_for_tests', vaultTitles = ['Infra']) {
    this.vaults = vaultTitles.map((title) => ({ id: uuid(), title }));
  }

  /** The factory to inject into OnePasswordStore / openSecretStore. */
  factory = async (auth: OpAuth): Promise<OpClient> => {
    this.calls.push({ method: 'createClient', args: [auth.kind] });
    if (auth.kind === 'token' && auth.token !== this.validToken) {
      throw new Error('invalid service account token, please make sure you provide a valid service account token as parameter: bad signature');
    }
    return this.client();
  };

  private limited(): void {
    if (this.rateLimited > 0) {
      this.rateLimited--;
      this.save();
      throw new RateLimitExceededError('rate limit exceeded');
    }
  }
  private read(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    this.limited();
    if (++this.reads > this.readLimit) throw new RateLimitExceededError('rate limit exceeded');
  }
  private write(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    this.limited();
    if (++this.writes > this.writeLimit) throw new RateLimitExceededError('rate limit exceeded');
  }

  /** Add an item as a user would in the app (no call recorded). */
  addItem(item: { title: string; category: string; fields: OpField[]; vault?: string; sections?: OpItem['sections']; notes?: string; tags?: string[] }): OpItem {
    const vault = this.vaults.find((v) => v.title === (item.vault ?? this.vaults[0]!.title))!;
    const { vault: _v, ...rest } = item;
    const full: OpItem = { sections: [], notes: '', tags: [], ...rest, id: uuid(), vaultId: vault.id, fields: this.checkFields(item.category, item.fields) };
    this.items.set(full.id, full);
    this.save();
    return full;
  }

  /** The state as JSON (vaults, items, knobs), for the CLI module. */
  save(): void {
    if (!this.stateFile) return;
    writeFileSync(this.stateFile, JSON.stringify({ validToken: this.validToken, vaults: this.vaults, items: [...this.items.values()], rateLimited: this.rateLimited, calls: this.calls }, null, 1));
  }

  static load(stateFile: string): FakeOnePassword {
    const st = JSON.parse(readFileSync(stateFile, 'utf8')) as { validToken: string; vaults: { id: string; title: string }[]; items: OpItem[]; rateLimited: number; calls: FakeCall[] };
    const fake = new FakeOnePassword(st.validToken, []);
    fake.vaults.push(...st.vaults);
    for (const i of st.items) fake.items.set(i.id, i);
    fake.rateLimited = st.rateLimited;
    fake.calls.push(...st.calls);
    fake.stateFile = stateFile;
    return fake;
  }

  private vaultOf(id: string): void {
    if (!this.vaults.some((v) => v.id === id)) throw new Error('resource not found');
  }

  private checkFields(category: string, fields: OpField[]): OpField[] {
    if (!CATEGORIES.includes(category)) throw new Error(`invalid user input: unknown item category "${category}"`);
    return fields.map((f) => {
      if (!f.id || typeof f.title !== 'string') throw new Error('invalid user input: a field needs an id and a title');
      if (!FIELD_TYPES.includes(f.fieldType)) throw new Error(`invalid user input: unknown field type "${f.fieldType}"`);
      if (f.fieldType !== 'SshKey') return { ...f };
      if (category !== 'SshKey') throw new Error('invalid user input: SSH key fields are only allowed in SSH Key items');
      let pub;
      try {
        pub = createPublicKey(createPrivateKey({ key: f.value, format: 'pem' }));
      } catch {
        throw new Error('invalid user input: the SSH key must be a PKCS#8 PEM private key');
      }
      const raw = Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url');
      return { ...f, details: { type: 'SshKey', content: { publicKey: buildPublicLine(raw), fingerprint: buildFingerprint(raw), keyType: 'Ed25519' } } };
    });
  }

  private clone(item: OpItem): OpItem {
    return structuredClone(item);
  }

  client(): OpClient {
    return {
      vaults: {
        list: async () => {
          this.read('vaults.list', []);
          return this.vaults.map((v) => ({ ...v }));
        },
      },
      items: {
        list: async (vaultId: string) => {
          this.read('items.list', [vaultId]);
          this.vaultOf(vaultId);
          return [...this.items.values()].filter((i) => i.vaultId === vaultId).map((i) => ({ id: i.id, title: i.title, category: i.category }));
        },
        get: async (vaultId: string, itemId: string) => {
          this.read('items.get', [vaultId, itemId]);
          this.vaultOf(vaultId);
          const item = this.items.get(itemId);
          if (!item || item.vaultId !== vaultId) throw new Error('resource not found');
          return this.clone(item);
        },
        create: async (params: OpItemCreateParams) => {
          this.write('items.create', [structuredClone(params)]);
          this.vaultOf(params.vaultId);
          const fields = this.checkFields(params.category, params.fields ?? []);
          const item: OpItem = { id: uuid(), title: params.title, category: params.category, vaultId: params.vaultId, fields, sections: [], notes: params.notes ?? '', tags: params.tags ?? [], websites: [], version: 1, files: [], createdAt: new Date(), updatedAt: new Date() };
          this.items.set(item.id, item);
          this.save();
          return this.clone(item);
        },
        put: async (item: OpItem) => {
          this.write('items.put', [structuredClone(item)]);
          const old = this.items.get(item.id);
          if (!old) throw new Error('resource not found');
          if (old.category !== item.category) throw new Error('invalid user input: the category of an item cannot change');
          const next = { ...item, fields: this.checkFields(item.category, item.fields), version: (old.version as number) + 1, updatedAt: new Date() };
          this.items.set(item.id, next);
          this.save();
          return this.clone(next);
        },
      },
      secrets: {
        resolve: async (reference: string) => {
          this.read('secrets.resolve', [reference]);
          this.save();
          return this.resolve(reference);
        },
      },
    };
  }

  private resolve(reference: string): string {
    validateWithRealSdk(reference);
    const m = /^op:\/\/([^/]+)\/([^/]+)\/(?:([^/?]+)\/)?([^/?]+)(?:\?(.*))?$/.exec(reference);
    if (!m) throw new Error('error resolving secret reference: the secret reference could not be parsed');
    const [, v, i, sec, f, query] = m;
    const vault = this.vaults.find((x) => x.id === v) ?? this.vaults.find((x) => fold(x.title) === fold(v!));
    if (!vault) throw new Error('error resolving secret reference: no vault matched the secret reference query');
    const inVault = [...this.items.values()].filter((x) => x.vaultId === vault.id);
    const byId = inVault.filter((x) => x.id === i);
    const items = byId.length ? byId : inVault.filter((x) => fold(x.title) === fold(i!));
    if (items.length === 0) throw new Error('error resolving secret reference: no item matched the secret reference query');
    if (items.length > 1) throw new Error('error resolving secret reference: more than one item matched the secret reference query');
    const item = items[0]!;
    const section = sec === undefined ? undefined : item.sections.find((x) => x.id === sec || fold(x.title) === fold(sec));
    if (sec !== undefined && !section) throw new Error('error resolving secret reference: no section matched the secret reference query');
    const fields = item.fields.filter((x) => (section ? x.sectionId === section.id : true) && (x.id === f || fold(x.title) === fold(f!)));
    if (fields.length !== 1) throw new Error(`error resolving secret reference: ${fields.length ? 'more than one field' : 'no field'} matched the secret reference query`);
    const field = fields[0]!;
    if (query === 'ssh-format=openssh') {
      if (field.fieldType !== 'SshKey') throw new Error('error resolving secret reference: the ssh-format query parameter is only supported for SSH key fields');
      const key = createPrivateKey({ key: field.value, format: 'pem' });
      const jwk = key.export({ format: 'jwk' });
      return buildOpenSshPrivateKey(Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url'), '');
    }
    if (query && field.fieldType !== 'Totp') throw new Error('error resolving secret reference: the attribute query parameter is only supported for one-time password fields');
    return field.value;
  }
}

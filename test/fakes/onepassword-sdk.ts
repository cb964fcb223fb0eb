/**
 * FAKE 1Password SDK client, for the test suite only (1Password cannot run here). It mirrors
 * @1password/sdk 0.5's shapes and checks: category and field-type enums, vault ids, SSH keys
 * accepted as PKCS#8 PEM and returned with computed details, secret references with
 * `?ssh-format=openssh`, and the SDK's error classes and core messages for a bad token and rate
 * limiting. Every call is recorded so contract tests can assert what the backend sends.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { buildFingerprint, buildOpenSshPrivateKey, buildPublicLine } from '../../src/keys/ssh-key.js';
import type { OpAuth, OpClient, OpField, OpItem, OpItemCreateParams } from '../../src/secrets/onepassword.js';

// Same class names as the SDK's (the backend tells them apart by constructor name).
export class RateLimitExceededError extends Error {}
export class AuthExpiredError extends Error {}

const CATEGORIES = ['Login', 'SecureNote', 'CreditCard', 'CryptoWallet', 'Identity', 'Password', 'Document', 'ApiCredentials', 'BankAccount', 'Database', 'DriverLicense', 'Email', 'MedicalRecord', 'Membership', 'OutdoorLicense', 'Passport', 'Rewards', 'Router', 'Server', 'SshKey', 'SocialSecurityNumber', 'SoftwareLicense', 'Person'];
const FIELD_TYPES = ['Text', 'Concealed', 'CreditCardType', 'CreditCardNumber', 'Phone', 'Url', 'Totp', 'Email', 'Reference', 'SshKey', 'Menu', 'MonthYear', 'Address', 'Date'];

export interface FakeCall {
  method: string;
  args: unknown[];
}

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

  private read(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    if (++this.reads > this.readLimit) throw new RateLimitExceededError('rate limit exceeded');
  }
  private write(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    if (++this.writes > this.writeLimit) throw new RateLimitExceededError('rate limit exceeded');
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
          return this.clone(item);
        },
        put: async (item: OpItem) => {
          this.write('items.put', [structuredClone(item)]);
          const old = this.items.get(item.id);
          if (!old) throw new Error('resource not found');
          if (old.category !== item.category) throw new Error('invalid user input: the category of an item cannot change');
          const next = { ...item, fields: this.checkFields(item.category, item.fields), version: (old.version as number) + 1, updatedAt: new Date() };
          this.items.set(item.id, next);
          return this.clone(next);
        },
      },
      secrets: {
        resolve: async (reference: string) => {
          this.read('secrets.resolve', [reference]);
          return this.resolve(reference);
        },
      },
    };
  }

  private resolve(reference: string): string {
    const m = /^op:\/\/([^/]+)\/([^/]+)\/([^?]+)(?:\?(.*))?$/.exec(reference);
    if (!m) throw new Error('error parsing secret reference');
    const [, v, i, f, query] = m;
    const vault = this.vaults.find((x) => x.id === v || x.title === v);
    if (!vault) throw new Error('no vault matched the secret reference query');
    const item = [...this.items.values()].find((x) => x.vaultId === vault.id && (x.id === i || x.title === i));
    if (!item) throw new Error('no item matched the secret reference query');
    const field = item.fields.find((x) => x.id === f || x.title === f);
    if (!field) throw new Error('the specified field cannot be found within the item');
    if (query === 'ssh-format=openssh' && field.fieldType === 'SshKey') {
      const key = createPrivateKey({ key: field.value, format: 'pem' });
      const jwk = key.export({ format: 'jwk' });
      return buildOpenSshPrivateKey(Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url'), '');
    }
    return field.value;
  }
}

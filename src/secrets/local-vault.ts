/**
 * The `local` secret store: one ASCII-armoured age file per secret under a directory of the flake
 * (default secrets/bootstrap/), e.g. secrets/bootstrap/hosts/web1/ssh_host_ed25519_key.age.
 * Files are encrypted to the admin recipients from bootstrap.toml plus the recipient of the
 * identity in use (so the writer can always read back what it wrote), and any of them can open a
 * file with the plain `age` CLI: `age -d -i ~/.config/sops/age/keys.txt FILE`.
 * Public halves (meta.publicValue) are kept beside the file as NAME.pub, readable without a key.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { armor, Decrypter, Encrypter } from 'age-encryption';
import { failure, usageError } from '../errors.js';
import { isAgeRecipient } from '../keys/age-key.js';
import { registerSecret } from '../redact.js';
import { CREATE_IDENTITY_HINT, type AdminIdentity } from './age-identity.js';
import { assertSecretName, type HealthResult, type SecretMeta, type SecretStore } from './store.js';

export interface LocalVaultOptions {
  flakeDir: string;
  /** Vault directory relative to the flake. */
  dir: string;
  /** Admin recipients from bootstrap.toml. */
  recipients: string[];
  /** Loads the admin identity on first need; undefined when none is configured. */
  loadIdentity: () => Promise<AdminIdentity | undefined>;
}

export class LocalVault implements SecretStore {
  readonly kind = 'local' as const;
  private identity: Promise<AdminIdentity | undefined> | undefined;
  private readonly cache = new Map<string, string | undefined>();

  constructor(private readonly opts: LocalVaultOptions) {
    for (const r of opts.recipients) {
      if (!isAgeRecipient(r)) throw usageError('bad-recipient', `bootstrap.toml: [secrets.local] recipients has "${r.slice(0, 20)}…", not an X25519 age recipient (age1…)`, 'list the output of `age-keygen -y KEYFILE`; ssh and plugin recipients are not supported here');
    }
  }

  /** Path of a secret's file relative to the flake (forward slashes). */
  fileOf(name: string): string {
    assertSecretName(name);
    return `${this.opts.dir.replace(/\/+$/, '')}/${name}.age`;
  }

  refOf(name: string): string {
    return `local:${this.fileOf(name)}`;
  }

  private abs(rel: string): string {
    return join(this.opts.flakeDir, rel);
  }

  private loadIdentity(): Promise<AdminIdentity | undefined> {
    this.identity ??= this.opts.loadIdentity();
    return this.identity;
  }

  async exists(name: string): Promise<boolean> {
    if (this.cache.get(name) !== undefined) return true;
    return (await readOptional(this.abs(this.fileOf(name)))) !== undefined;
  }

  async get(name: string): Promise<string | undefined> {
    if (this.cache.has(name)) return this.cache.get(name);
    const rel = this.fileOf(name);
    const text = await readOptional(this.abs(rel));
    if (text === undefined) return undefined;
    const id = await this.loadIdentity();
    if (!id) throw usageError('no-age-identity', `no age identity to open ${rel}`, 'set BOOTSTRAP_AGE_IDENTITY to the age key file (or AGE-SECRET-KEY-1… value) the vault is encrypted to; the default is ~/.config/sops/age/keys.txt');
    const value = await decryptFile(text, id, rel);
    registerSecret(value);
    this.cache.set(name, value);
    return value;
  }

  async put(name: string, value: string, meta?: SecretMeta): Promise<string> {
    registerSecret(value);
    const rel = this.fileOf(name);
    const recipients = await this.recipients();
    const e = new Encrypter();
    for (const r of recipients) e.addRecipient(r);
    const armored = armor.encode(await e.encrypt(value));
    await writeAtomic(this.abs(rel), armored);
    if (meta?.publicValue !== undefined) await writeAtomic(this.abs(rel.replace(/\.age$/, '.pub')), meta.publicValue.trim() + '\n');
    this.cache.set(name, value);
    return this.refOf(name);
  }

  async getPublic(name: string): Promise<string | undefined> {
    const text = await readOptional(this.abs(this.fileOf(name).replace(/\.age$/, '.pub')));
    return text?.trim();
  }

  /**
   * A user-given reference into this vault (issue 21: `--login-key local:…`, [tailscale] authKey):
   * `local:DIR/NAME.age` is the decrypted secret (with the public half kept beside it, if any),
   * `local:DIR/NAME.pub` only that public half, read without a key. DIR is the vault directory.
   * @throws usageError 'bad-local-reference' | 'local-ref-missing'
   */
  async readRef(reference: string, where: string): Promise<{ value: string; publicKey?: string }> {
    const dir = `${this.opts.dir.replace(/\/+$/, '')}/`;
    const rel = reference.startsWith('local:') ? reference.slice('local:'.length) : undefined;
    const m = rel?.startsWith(dir) ? /^(.+)\.(age|pub)$/.exec(rel.slice(dir.length)) : null;
    let name: string | undefined;
    try {
      if (m) assertSecretName(m[1]!);
      name = m?.[1];
    } catch {
      name = undefined;
    }
    if (!m || !name) {
      throw usageError('bad-local-reference', `${where}: ${JSON.stringify(reference.slice(0, 80))} is not a reference into the local vault`, `write local:${dir}NAME.age (the secret) or local:${dir}NAME.pub (its public half)`);
    }
    const publicKey = await this.getPublic(name);
    if (m[2] === 'pub') {
      if (publicKey === undefined) throw usageError('local-ref-missing', `${where}: ${dir}${name}.pub does not exist`, `check the name (\`bootstrap secrets list\`), or fix ${where}`);
      return { value: publicKey, publicKey };
    }
    const value = await this.get(name);
    if (value === undefined) throw usageError('local-ref-missing', `${where}: ${dir}${name}.age does not exist`, `store it with \`bootstrap secrets set ${name}\`, or fix ${where}`);
    return { value, ...(publicKey !== undefined ? { publicKey } : {}) };
  }

  /** Every secret name in the vault (files NAME.age under its directory), sorted. Reads no content. */
  async list(): Promise<string[]> {
    const root = this.abs(this.opts.dir);
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(root, rel), { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw failure('vault-unreadable', `cannot list ${join(this.opts.dir, rel)}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      for (const e of entries) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && e.name.endsWith('.age')) out.push(p.slice(0, -'.age'.length));
      }
    };
    await walk('');
    return out.sort();
  }

  /** Config recipients plus our own, deduplicated; a usage error when there are none. */
  async recipients(): Promise<string[]> {
    const id = await this.loadIdentity();
    const all = [...new Set([...this.opts.recipients, ...(id?.recipients.slice(0, 1) ?? [])])];
    if (all.length === 0) throw usageError('no-recipients', 'the local secret vault has no recipients to encrypt to', CREATE_IDENTITY_HINT);
    return all;
  }

  async healthCheck(): Promise<HealthResult> {
    try {
      const id = await this.loadIdentity();
      if (!id) return { kind: 'needs-setup', detail: 'no age identity found', hint: CREATE_IDENTITY_HINT };
      const missing = id.recipients.filter((r) => !this.opts.recipients.includes(r));
      if (this.opts.recipients.length && missing.length === id.recipients.length) {
        return { kind: 'needs-setup', detail: `the identity in ${id.source} is not among [secrets.local] recipients`, hint: `add "${id.recipients[0]}" to [secrets.local] recipients in bootstrap.toml` };
      }
      return { kind: 'ok', detail: `local vault ${this.opts.dir}, identity ${id.source}, ${(await this.recipients()).length} recipient(s)` };
    } catch (e) {
      const hint = (e as { hint?: string }).hint ?? CREATE_IDENTITY_HINT;
      return { kind: 'needs-setup', detail: (e as Error).message, hint };
    }
  }

  /** For messages: the vault directory relative to the flake. */
  describe(): string {
    return relative(this.opts.flakeDir, this.abs(this.opts.dir)) || '.';
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw failure('vault-unreadable', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function writeAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.bootstrap-tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, path);
}

/** Decrypt one vault file. Errors name the file and the reason class, never any content. */
async function decryptFile(text: string, id: AdminIdentity, rel: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = text.startsWith('-----BEGIN AGE ENCRYPTED FILE-----') ? armor.decode(text) : Buffer.from(text, 'latin1');
  } catch (e) {
    throw failure('vault-corrupt', `cannot decrypt ${rel}: the file is not valid age armour`, `restore ${rel} from git (git checkout -- ${rel}) or re-create the secret`, e);
  }
  const d = new Decrypter();
  for (const i of id.identities) d.addIdentity(i);
  try {
    return await d.decrypt(bytes, 'text');
  } catch (e) {
    const msg = e instanceof Error ? e.message : '';
    if (/no identity matched/i.test(msg)) {
      throw usageError('wrong-age-identity', `cannot decrypt ${rel}: the identity in ${id.source} is not one of its recipients`, `use the age key ${rel} was encrypted to (set BOOTSTRAP_AGE_IDENTITY), or ask a holder of that key to re-encrypt the vault`, e);
    }
    throw failure('vault-corrupt', `cannot decrypt ${rel}: the file is corrupted or not an age file`, `restore ${rel} from git (git checkout -- ${rel}) or re-create the secret`, e);
  }
}

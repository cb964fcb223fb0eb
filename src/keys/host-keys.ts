/**
 * A host's identity, decided before install: its SSH host key, the age identity derived from it
 * (for sops-nix), optionally an independent age key, and optionally a LUKS passphrase. Create or
 * reuse: an existing key is only replaced with `rotate` (a rotated host key means every secret
 * must be re-encrypted to the new recipient; the LUKS passphrase is never rotated here, because
 * the installed disk is encrypted with it).
 */
import { randomInt } from 'node:crypto';
import { checkHostName } from '../host-name.js';
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { checkSecretRef } from '../manifest/schema.js';
import type { SecretStore } from '../secrets/store.js';
import { buildAgeIdentityFromSsh, buildAgeRecipientFromSsh, generateAgeKey, recipientOfIdentity } from './age-key.js';
import { buildFingerprint, generateSshKeyPair, parseOpenSshPrivateKey, parsePublicLine } from './ssh-key.js';

/**
 * The admin age identity one fleet shares ([sops] separateKeyShared): stored once, delivered to
 * separateKeyPath on every host, listed once in .sops.yaml as &admin_shared (issue 11).
 */
export const SHARED_ADMIN_AGE_NAME = 'shared/admin-age';
export const SHARED_ADMIN_AGE_ANCHOR = 'admin_shared';

export function hostSecretNames(host: string) {
  return {
    sshKey: `hosts/${host}/ssh_host_ed25519_key`,
    ageKey: `hosts/${host}/age_key`,
    luks: `hosts/${host}/luks_passphrase`,
  };
}

/** Host names become file names, store names, Nix identifiers and YAML anchors: keep them tame. */
export function assertHostName(host: string): void {
  checkHostName(host);
}

export interface HostKeys {
  host: string;
  ssh: { publicKey: string; fingerprint: string; ref: string; privateKey: string };
  /** Derived from the SSH key (ssh-to-age). */
  age: { recipient: string; identity: string };
  /** An independent age key, when configured: the host's own, or the fleet's shared one. */
  separateAge?: SeparateAgeKey;
  luks?: { ref: string; passphrase: string };
}

export interface SeparateAgeKey {
  recipient: string;
  identity: string;
  ref: string;
  /** The fleet's shared admin key (SHARED_ADMIN_AGE_NAME), not the host's own. */
  shared?: boolean;
}

export type KeyAction = { name: string; action: 'create' | 'reuse' | 'rotate'; ref: string };

export interface EnsureOptions {
  rotate?: boolean;
  luks?: boolean;
  separateAgeKey?: boolean;
  /** With separateAgeKey: use the fleet's shared admin key instead of one per host. */
  sharedAgeKey?: boolean;
  /** Decide and report, write nothing to the store. */
  dryRun?: boolean;
  /** Take the SSH key from this existing item instead of the store's own (host-key-ref.ts). */
  sshKeyRef?: { ref: string; where: string };
}

/**
 * Read and check a host key from an existing item: an OpenSSH ed25519 private key whose public
 * half matches the item's public key, when the item has one.
 * @throws usageError 'host-key-ref-unsupported' | 'bad-ssh-key' | 'ssh-key-mismatch' (and the store's reference errors)
 */
async function readKeyFromRef(store: SecretStore, at: { ref: string; where: string }) {
  if (!store.readRef || (store.kind !== 'onepassword' && at.ref.startsWith('op://'))) {
    throw usageError('host-key-ref-unsupported', `${at.where} names an existing 1Password item, but the secret store is ${store.kind}`, 'set [secrets] store = "onepassword" in bootstrap.toml, or remove the reference to let bootstrap make the key');
  }
  const got = await store.readRef(at.ref, at.where);
  const ssh = parseOpenSshPrivateKey(got.value, `${at.where} (${at.ref})`);
  if (got.publicKey !== undefined) {
    let matches = false;
    try {
      matches = Buffer.from(parsePublicLine(got.publicKey)).equals(Buffer.from(ssh.publicRaw));
    } catch {
      matches = false;
    }
    if (!matches) throw usageError('ssh-key-mismatch', `${at.where} (${at.ref}): the item's public key is not the public half of its private key`, 'fix the item in 1Password so both halves belong to one key, or point the reference at another item');
  }
  return ssh;
}

/**
 * Every reference this run may record must be one a host manifest accepts: checked before
 * anything is written, so a refused run creates nothing and `--resume` works (issue 11).
 * @throws usageError 'bad-secret-ref' (or the store's own 'bad-op-reference')
 */
export function checkRecordableRefs(store: SecretStore, names: string[]): void {
  for (const name of names) {
    const ref = store.refOf(name);
    const why = checkSecretRef(ref);
    if (why) throw usageError('bad-secret-ref', `cannot record where ${name} is kept: ${why}`, store.kind === 'onepassword' ? 'set [secrets.onepassword] vault to the vault id' : 'set [secrets.local] dir to a path without spaces');
  }
}

/** High-entropy passphrase without look-alike characters (0/O, 1/l/I), typed-friendly in groups. */
export function generateLuksPassphrase(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const groups = Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => alphabet[randomInt(alphabet.length)]).join(''));
  const pass = groups.join('-'); // 36 symbols of log2(56) ≈ 5.8 bits: about 209 bits
  registerSecret(pass);
  return pass;
}

/** Create or reuse every key of a host. Returns the keys (with secrets, registered) and what was done. */
export async function ensureHostKeys(store: SecretStore, host: string, opts: EnsureOptions = {}): Promise<{ keys: HostKeys; actions: KeyAction[] }> {
  assertHostName(host);
  const names = hostSecretNames(host);
  const actions: KeyAction[] = [];
  const put = async (name: string, value: string, meta: Parameters<SecretStore['put']>[2], existed: boolean) => {
    const ref = opts.dryRun ? store.refOf(name) : await store.put(name, value, meta);
    actions.push({ name, action: existed ? 'rotate' : 'create', ref });
    return ref;
  };

  const writes = [...(opts.sshKeyRef ? [] : [names.sshKey]), ...(opts.separateAgeKey ? [opts.sharedAgeKey ? SHARED_ADMIN_AGE_NAME : names.ageKey] : []), ...(opts.luks ? [names.luks] : [])];
  checkRecordableRefs(store, writes);
  if (opts.sshKeyRef && opts.rotate) {
    throw usageError('rotate-existing-item', `the host key of ${host} comes from ${opts.sshKeyRef.where}; bootstrap does not rotate it`, 'replace the key in that 1Password item yourself, then run `bootstrap keys ensure` again');
  }
  const existingSsh = opts.sshKeyRef ? undefined : await store.get(names.sshKey);
  let ssh;
  let sshRef: string;
  if (opts.sshKeyRef) {
    ssh = await readKeyFromRef(store, opts.sshKeyRef);
    sshRef = opts.sshKeyRef.ref;
    actions.push({ name: names.sshKey, action: 'reuse', ref: sshRef });
  } else if (existingSsh !== undefined && !opts.rotate) {
    ssh = parseOpenSshPrivateKey(existingSsh, store.refOf(names.sshKey));
    sshRef = store.refOf(names.sshKey);
    actions.push({ name: names.sshKey, action: 'reuse', ref: sshRef });
  } else {
    ssh = generateSshKeyPair(`root@${host}`);
    sshRef = await put(names.sshKey, ssh.privateKey, { kind: 'ssh-key', publicValue: ssh.publicKey }, existingSsh !== undefined);
  }
  const keys: HostKeys = {
    host,
    ssh: { publicKey: ssh.publicKey, fingerprint: ssh.fingerprint, ref: sshRef, privateKey: ssh.privateKey },
    age: { recipient: buildAgeRecipientFromSsh(ssh.publicRaw), identity: buildAgeIdentityFromSsh(ssh.seed) },
  };

  if (opts.separateAgeKey) {
    const r = await ensureSeparateAgeKey(store, host, opts);
    keys.separateAge = r.key;
    actions.push(r.action);
  }

  if (opts.luks || (await store.exists(names.luks))) {
    const existing = await store.get(names.luks);
    if (existing !== undefined) {
      keys.luks = { passphrase: existing, ref: store.refOf(names.luks) };
      actions.push({ name: names.luks, action: 'reuse', ref: keys.luks.ref });
    } else {
      const passphrase = generateLuksPassphrase();
      keys.luks = { passphrase, ref: await put(names.luks, passphrase, { kind: 'password' }, false) };
    }
  }
  return { keys, actions };
}

/**
 * Create or reuse the independent age key: the host's own (hosts/HOST/age_key; `rotate` replaces
 * it), or with `sharedAgeKey` the fleet's (shared/admin-age; made once, never rotated from one
 * host, since every host holds it). Also used alone by --copy-host-keys installs, which keep the
 * target's SSH key but still deliver this one.
 */
export async function ensureSeparateAgeKey(
  store: SecretStore,
  host: string,
  opts: Pick<EnsureOptions, 'rotate' | 'sharedAgeKey' | 'dryRun'> = {},
): Promise<{ key: SeparateAgeKey; action: KeyAction }> {
  const name = opts.sharedAgeKey ? SHARED_ADMIN_AGE_NAME : hostSecretNames(host).ageKey;
  const shared = opts.sharedAgeKey ? { shared: true } : {};
  const existing = await store.get(name);
  if (existing !== undefined && (!opts.rotate || opts.sharedAgeKey)) {
    const identity = existing.trim();
    const key = { identity, recipient: await recipientOfIdentity(identity, store.refOf(name)), ref: store.refOf(name), ...shared };
    return { key, action: { name, action: 'reuse', ref: key.ref } };
  }
  const k = await generateAgeKey();
  const ref = opts.dryRun ? store.refOf(name) : await store.put(name, k.identity, { kind: 'password', publicValue: k.recipient });
  return { key: { ...k, ref, ...shared }, action: { name, action: existing !== undefined ? 'rotate' : 'create', ref } };
}

/** Read (never create) the independent age key, for steps after the keys step. Undefined when absent. */
export async function readSeparateAgeKey(store: SecretStore, host: string, opts: Pick<EnsureOptions, 'sharedAgeKey'> = {}): Promise<SeparateAgeKey | undefined> {
  const name = opts.sharedAgeKey ? SHARED_ADMIN_AGE_NAME : hostSecretNames(host).ageKey;
  const existing = await store.get(name);
  if (existing === undefined) return undefined;
  const identity = existing.trim();
  return { identity, recipient: await recipientOfIdentity(identity, store.refOf(name)), ref: store.refOf(name), ...(opts.sharedAgeKey ? { shared: true } : {}) };
}

export interface HostPublicKeys {
  host: string;
  ssh: { publicKey: string; fingerprint: string; ref: string };
  age: { recipient: string };
}

/**
 * The public half of a host's identity, read without decrypting when the store keeps public
 * values. A host without a key in the store is a usage error (exit 2).
 */
export async function readHostPublicKeys(store: SecretStore, host: string, sshKeyRef?: { ref: string; where: string }): Promise<HostPublicKeys> {
  assertHostName(host);
  if (sshKeyRef) {
    const ssh = await readKeyFromRef(store, sshKeyRef);
    return { host, ssh: { publicKey: ssh.publicKey, fingerprint: ssh.fingerprint, ref: sshKeyRef.ref }, age: { recipient: buildAgeRecipientFromSsh(ssh.publicRaw) } };
  }
  const name = hostSecretNames(host).sshKey;
  let publicKey = await store.getPublic?.(name);
  if (publicKey === undefined) {
    const priv = await store.get(name);
    if (priv !== undefined) publicKey = parseOpenSshPrivateKey(priv, store.refOf(name)).publicKey;
  }
  if (publicKey === undefined) {
    throw usageError('unknown-host', `no keys for host ${host} in the ${store.kind} secret store`, `create them with \`bootstrap keys ensure ${host}\``);
  }
  const raw = parsePublicLine(publicKey);
  return { host, ssh: { publicKey, fingerprint: buildFingerprint(raw), ref: store.refOf(name) }, age: { recipient: buildAgeRecipientFromSsh(raw) } };
}

/** The LUKS passphrase, for the installer's --disk-encryption-keys file (write it without a newline). */
export async function readLuksPassphrase(store: SecretStore, host: string): Promise<string> {
  const value = await store.get(hostSecretNames(host).luks);
  if (value === undefined) throw usageError('no-luks-passphrase', `host ${host} has no LUKS passphrase in the secret store`, `create one with \`bootstrap keys ensure ${host} --luks\``);
  return value;
}

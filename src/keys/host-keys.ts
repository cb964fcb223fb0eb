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
import type { SecretStore } from '../secrets/store.js';
import { buildAgeIdentityFromSsh, buildAgeRecipientFromSsh, generateAgeKey, recipientOfIdentity } from './age-key.js';
import { buildFingerprint, generateSshKeyPair, parseOpenSshPrivateKey, parsePublicLine } from './ssh-key.js';

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
  /** An independent age key, when configured. */
  separateAge?: { recipient: string; identity: string; ref: string };
  luks?: { ref: string; passphrase: string };
}

export type KeyAction = { name: string; action: 'create' | 'reuse' | 'rotate'; ref: string };

export interface EnsureOptions {
  rotate?: boolean;
  luks?: boolean;
  separateAgeKey?: boolean;
  /** Decide and report, write nothing to the store. */
  dryRun?: boolean;
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

  const existingSsh = await store.get(names.sshKey);
  let ssh;
  let sshRef: string;
  if (existingSsh !== undefined && !opts.rotate) {
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
    const existing = await store.get(names.ageKey);
    if (existing !== undefined && !opts.rotate) {
      const identity = existing.trim();
      keys.separateAge = { identity, recipient: await recipientOfIdentity(identity, store.refOf(names.ageKey)), ref: store.refOf(names.ageKey) };
      actions.push({ name: names.ageKey, action: 'reuse', ref: keys.separateAge.ref });
    } else {
      const k = await generateAgeKey();
      const ref = await put(names.ageKey, k.identity, { kind: 'password', publicValue: k.recipient }, existing !== undefined);
      keys.separateAge = { ...k, ref };
    }
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

export interface HostPublicKeys {
  host: string;
  ssh: { publicKey: string; fingerprint: string; ref: string };
  age: { recipient: string };
}

/**
 * The public half of a host's identity, read without decrypting when the store keeps public
 * values. A host without a key in the store is a usage error (exit 2).
 */
export async function readHostPublicKeys(store: SecretStore, host: string): Promise<HostPublicKeys> {
  assertHostName(host);
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

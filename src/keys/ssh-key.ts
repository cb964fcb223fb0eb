/**
 * ed25519 SSH host keys, made in process (no ssh-keygen needed) and written in the OpenSSH
 * private key format ("openssh-key-v1", unencrypted) that sshd and `ssh-keygen -y -f` read.
 * Format reference: OpenSSH PROTOCOL.key. Only unencrypted ed25519 keys are parsed: host keys
 * are never passphrase-protected, and anything else is a usage error naming what we found.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';

export interface SshKeyPair {
  /** OpenSSH private key text (PEM armour, trailing newline). Secret. */
  privateKey: string;
  /** "ssh-ed25519 AAAA… comment" */
  publicKey: string;
  /** "SHA256:…" as `ssh-keygen -lf` prints it */
  fingerprint: string;
  /** The 32-byte ed25519 seed. Secret. */
  seed: Uint8Array;
  /** The 32-byte ed25519 public key. */
  publicRaw: Uint8Array;
  comment: string;
}

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const KEY_TYPE = 'ssh-ed25519';
const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';

function sshString(data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The public key "blob" (string type, string key) that fingerprints and public lines encode. */
export function buildPublicBlob(publicRaw: Uint8Array): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(publicRaw)]);
}

export function buildPublicLine(publicRaw: Uint8Array, comment = ''): string {
  const line = `${KEY_TYPE} ${buildPublicBlob(publicRaw).toString('base64')}`;
  return comment ? `${line} ${comment}` : line;
}

/** SHA256 fingerprint exactly as OpenSSH prints it: unpadded base64 of sha256(blob). */
export function buildFingerprint(publicRaw: Uint8Array): string {
  const digest = createHash('sha256').update(buildPublicBlob(publicRaw)).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** Serialize an ed25519 key in openssh-key-v1 format. `checkint` is random unless given (tests). */
export function buildOpenSshPrivateKey(seed: Uint8Array, publicRaw: Uint8Array, comment: string, checkint?: number): string {
  const check = checkint ?? randomBytes(4).readUInt32BE();
  let priv = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(KEY_TYPE),
    sshString(publicRaw),
    sshString(Buffer.concat([seed, publicRaw])),
    sshString(comment),
  ]);
  // Pad with 1, 2, 3, … to the cipher block size (8 for "none").
  const pad = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const blob = Buffer.concat([
    MAGIC,
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(buildPublicBlob(publicRaw)),
    sshString(priv),
  ]);
  const b64 = blob.toString('base64').match(/.{1,70}/g) ?? [];
  return `${BEGIN}\n${b64.join('\n')}\n${END}\n`;
}

/** Generate a fresh ed25519 key pair. Registers the private parts with the redactor. */
export function generateSshKeyPair(comment: string): SshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const publicRaw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return sshKeyPairFrom(seed, publicRaw, comment);
}

function sshKeyPairFrom(seed: Uint8Array, publicRaw: Uint8Array, comment: string, text?: string): SshKeyPair {
  const privateText = text ?? buildOpenSshPrivateKey(seed, publicRaw, comment);
  registerSecret(privateText);
  registerSecret(Buffer.from(seed).toString('base64'));
  registerSecret(Buffer.from(seed).toString('hex'));
  return {
    privateKey: privateText,
    publicKey: buildPublicLine(publicRaw, comment),
    fingerprint: buildFingerprint(publicRaw),
    seed,
    publicRaw,
    comment,
  };
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error('truncated');
    const n = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return n;
  }
  bytes(): Buffer {
    const n = this.u32();
    if (this.pos + n > this.buf.length) throw new Error('truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  text(): string {
    return this.bytes().toString('utf8');
  }
}

/**
 * Parse an unencrypted OpenSSH ed25519 private key. `source` names where it came from, for the
 * error message (never the content). Throws a usage error on anything else.
 */
export function parseOpenSshPrivateKey(text: string, source = 'private key'): SshKeyPair {
  const bad = (why: string) => usageError('bad-ssh-key', `${source} is not a usable OpenSSH ed25519 private key (${why})`, 'host keys must be unencrypted ed25519 keys in OpenSSH format (ssh-keygen -t ed25519 -N "")');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw bad('no OPENSSH PRIVATE KEY armour');
  const blob = Buffer.from(text.slice(start + BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('not openssh-key-v1');
  try {
    const r = new Reader(blob.subarray(MAGIC.length));
    const cipher = r.text();
    r.text(); // kdf name
    r.bytes(); // kdf options
    if (cipher !== 'none') throw bad('it is passphrase-protected');
    if (r.u32() !== 1) throw bad('more than one key');
    r.bytes(); // public blob, repeated inside the private section
    const p = new Reader(r.bytes());
    if (p.u32() !== p.u32()) throw bad('checkint mismatch');
    const type = p.text();
    if (type !== KEY_TYPE) throw bad(`key type ${type}`);
    const publicRaw = Buffer.from(p.bytes());
    const both = p.bytes();
    if (publicRaw.length !== 32 || both.length !== 64) throw bad('wrong key length');
    const comment = p.text();
    const seed = Buffer.from(both.subarray(0, 32));
    return sshKeyPairFrom(seed, publicRaw, comment, text.endsWith('\n') ? text : `${text}\n`);
  } catch (e) {
    if (e instanceof Error && e.name === 'BootstrapError') throw e;
    throw bad('truncated');
  }
}

/** The 32-byte key inside an "ssh-ed25519 AAAA… [comment]" line. */
export function parsePublicLine(line: string): Uint8Array {
  const [type, b64] = line.trim().split(/\s+/);
  if (type !== KEY_TYPE || !b64) throw usageError('bad-ssh-key', `not an ssh-ed25519 public key: "${line.trim().slice(0, 40)}"`);
  const r = new Reader(Buffer.from(b64, 'base64'));
  try {
    if (r.text() !== KEY_TYPE) throw new Error('type');
    const raw = r.bytes();
    if (raw.length !== 32) throw new Error('length');
    return Buffer.from(raw);
  } catch {
    throw usageError('bad-ssh-key', `malformed ssh-ed25519 public key: "${line.trim().slice(0, 40)}"`);
  }
}

/**
 * Host keys, pure: fingerprints as `ssh-keygen -lf` prints them, OpenSSH known_hosts parsing and
 * matching (plain names, `[host]:port`, comma lists, wildcards, negations, hashed `|1|salt|hmac`
 * names, @revoked and @cert-authority markers), and the text of `.bootstrap/known_hosts` after a
 * pin. The file we write must be read by ssh(1) and nixos-anywhere through UserKnownHostsFile, so
 * every line is exactly OpenSSH's format.
 */
import { createHash, createHmac } from 'node:crypto';
import { usageError } from '../errors.js';

export interface HostKey {
  /** Key type from inside the blob: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa … */
  type: string;
  blob: Buffer;
  /** SHA256:… without base64 padding, as ssh-keygen -lf prints it. */
  fingerprint: string;
}

export interface KnownHostEntry {
  file: string;
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  /** The host field as written: "a,b,[c]:2222" or "|1|salt|hash". */
  hosts: string;
  key: HostKey;
}

/** `SHA256:` + base64(sha256(blob)) without `=` padding. */
export function buildFingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type string at the start of an SSH wire-format public key blob, or null if malformed. */
export function parseKeyType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return null;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[a-z0-9@._-]+$/i.test(type) ? type : null;
}

export function buildHostKey(blob: Buffer): HostKey {
  return { type: parseKeyType(blob) ?? 'unknown', blob, fingerprint: buildFingerprint(blob) };
}

/** A short label people know from ssh(1): ED25519, ECDSA, RSA. */
export function keyLabel(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type.startsWith('ecdsa-')) return 'ECDSA';
  if (type === 'ssh-rsa' || type.startsWith('rsa-')) return 'RSA';
  return type.toUpperCase();
}

const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Validate a `--host-key` value. Accepts a trailing `=` (some tools print it). */
export function parseFingerprint(input: string): string {
  const v = input.trim().replace(/=$/, '');
  if (FINGERPRINT_RE.test(v)) return v;
  const hint = 'give the SHA256 fingerprint as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the target, e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
  if (/^MD5:|^([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(v)) throw usageError('bad-host-key', `"${input}" is an MD5 fingerprint; only SHA256 fingerprints are accepted`, hint);
  throw usageError('bad-host-key', `"${input}" is not a SHA256 host key fingerprint`, hint);
}

function parseLine(raw: string, file: string, line: number): KnownHostEntry | null {
  const text = raw.trim();
  if (text === '' || text.startsWith('#')) return null;
  const fields = text.split(/\s+/);
  let marker: KnownHostEntry['marker'] = null;
  if (fields[0]!.startsWith('@')) {
    const m = fields.shift()!;
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return null; // unknown marker: OpenSSH skips the line too
  }
  const [hosts, type, b64] = fields;
  if (!hosts || !type || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  const blob = Buffer.from(b64, 'base64');
  // A line whose type field disagrees with the blob is corrupt; OpenSSH ignores it as well.
  if (parseKeyType(blob) !== type) return null;
  return { file, line, marker, hosts, key: buildHostKey(blob) };
}

/** Parse a known_hosts file. Malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const e = parseLine(raw, file, i + 1);
    if (e) out.push(e);
  });
  return out;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function hashedMatches(hosts: string, name: string): boolean {
  const parts = hosts.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = createHmac('sha1', salt).update(name).digest('base64');
  return want === parts[3];
}

/**
 * Does a known_hosts host field match `name` (already in known_hosts form: `host` or `[host]:port`)?
 * A negated pattern that matches wins over any positive one, as in OpenSSH's match_hostname().
 */
export function matchesHost(hosts: string, name: string): boolean {
  const n = name.toLowerCase();
  if (hosts.startsWith('|')) return hashedMatches(hosts, n);
  let positive = false;
  for (const raw of hosts.split(',')) {
    const negated = raw.startsWith('!');
    const pat = (negated ? raw.slice(1) : raw).toLowerCase();
    if (pat === '' || !globToRegExp(pat).test(n)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

export interface KnownHostsLookup {
  /** Plain entries for the name (no marker). */
  known: KnownHostEntry[];
  /** @revoked entries for the name. */
  revoked: KnownHostEntry[];
}

/** Entries for one host name. @cert-authority lines are left out: we do not verify host certificates. */
export function lookupKnownHost(entries: KnownHostEntry[], name: string): KnownHostsLookup {
  const hits = entries.filter((e) => matchesHost(e.hosts, name));
  return { known: hits.filter((e) => e.marker === null), revoked: hits.filter((e) => e.marker === 'revoked') };
}

/** One OpenSSH known_hosts line: `name type base64`. */
export function buildKnownHostsLine(name: string, key: HostKey): string {
  return `${name} ${key.type} ${key.blob.toString('base64')}`;
}

/**
 * The flake's known_hosts after pinning `key` for `name`: lines of the same name and key type are
 * replaced (a deliberate re-pin after a reinstall), everything else is kept byte for byte.
 * Returns null when the pin is already there.
 */
export function buildPinnedKnownHosts(existing: string, name: string, key: HostKey): string | null {
  const wanted = buildKnownHostsLine(name, key);
  const lines = existing === '' ? [] : existing.replace(/\n$/, '').split('\n');
  if (lines.some((l) => l.trim() === wanted)) return null;
  const kept = lines.filter((l) => {
    const e = parseLine(l, '', 0);
    return !(e && e.marker === null && e.hosts === name && e.key.type === key.type);
  });
  return [...kept, wanted].join('\n') + '\n';
}

/** Host key algorithms to offer, known key types first, so the server presents the key we know. */
export function buildHostKeyAlgorithms(knownTypes: string[], defaults: readonly string[]): string[] {
  const expand = (t: string) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]);
  const first = knownTypes.flatMap(expand).filter((a) => defaults.includes(a));
  return [...new Set([...first, ...defaults])];
}

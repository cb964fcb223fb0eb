/** The operator's public key as providers name it. Pure. */
import { createHash } from 'node:crypto';
import { usageError } from '../errors.js';

export interface OperatorKey {
  /** "ssh-ed25519 AAAA…" without the comment. */
  line: string;
  type: string;
  /** MD5 of the key blob, colon-separated hex: the fingerprint Hetzner (Cloud and Robot) and OVH show. */
  md5: string;
  /** SHA256:… as OpenSSH prints it. */
  sha256: string;
}

/** @throws usageError 'bad-public-key' */
export function parseOperatorKey(text: string, where: string): OperatorKey {
  const [type, b64] = text.trim().split(/\s+/);
  if (!type || !b64 || !/^(ssh-|ecdsa-|sk-)/.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw usageError('bad-public-key', `${where} is not an OpenSSH public key`, 'give the -i key whose .pub sits beside it, e.g. -i ~/.ssh/id_ed25519');
  }
  const blob = Buffer.from(b64, 'base64');
  const md5 = createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
  const sha256 = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { line: `${type} ${b64}`, type, md5, sha256 };
}

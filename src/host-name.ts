/**
 * The one host-name rule. A host name becomes networking.hostName, a nixosConfigurations attribute,
 * a directory (hosts/HOST, .bootstrap/state/HOST), secret names and repository paths, so it is one
 * lowercase RFC 1123 label (1-63 letters, digits and inner dashes) that is not a Nix keyword
 * (`nixosConfigurations.if` does not parse). Pure.
 */
import { usageError } from './errors.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NIX_KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']);

/** @throws usageError 'bad-host-name' */
export function checkHostName(host: string): string {
  const shown = JSON.stringify(host.length > 70 ? `${host.slice(0, 64)}…` : host);
  if (!LABEL.test(host)) {
    throw usageError('bad-host-name', `${shown} is not a valid host name: use 1-63 lowercase letters, digits and dashes, not starting or ending with a dash`, 'e.g. web1, db-2, laptop');
  }
  if (NIX_KEYWORDS.has(host)) throw usageError('bad-host-name', `${shown} is a Nix keyword and cannot name a host`, 'pick another name, e.g. if1');
  return host;
}

/** checkHostName as a predicate (schemas, directory listings). */
export function isHostName(host: string): boolean {
  try {
    checkHostName(host);
    return true;
  } catch {
    return false;
  }
}

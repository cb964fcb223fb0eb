/**
 * An SSH target is an immutable value parsed once from `user@host[:port]`. IPv6 literals go in
 * brackets (`root@[2a01:4f8::1]:22`); a bare IPv6 literal without a port is accepted too.
 * Values are validated strictly because they reach argv of ssh and nixos-anywhere, and a value no
 * SSH server could accept is bad input here, before anything resolves or connects: a user name
 * longer than 32 characters (useradd(8): "Usernames may only be up to 32 characters long", the
 * size of utmp's ut_user) or with control characters, a host name over 253 characters (RFC 1035).
 */
import { isIPv6 } from 'node:net';
import { quote, usageError } from '../errors.js';

export interface SshTarget {
  readonly user: string;
  readonly host: string; // without brackets
  readonly port: number;
  readonly identityFile?: string;
}

const USER_RE = /^[a-z_][a-z0-9_.-]*\$?$/i;
/** useradd(8)'s limit, which every Linux login (and so every SSH user) is under. */
export const MAX_USER_LENGTH = 32;
// C0 controls, DEL and C1 controls: named as such, so the message says why (not only "invalid").
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const IPV6_RE = /^[0-9a-f:.]+(%[a-z0-9_.-]+)?$/i;

const HINT = 'write the target as user@host[:port], e.g. root@203.0.113.7 or root@[2001:db8::1]:2222';

function bad(input: string, why: string): never {
  throw usageError('bad-target', `${quote(input)} is not an SSH target: ${why}`, HINT);
}

/** An IPv6 literal, optionally with a zone (fe80::1%eth0); "127.0.0.1:22:22" is not one. */
export function isIpv6(host: string): boolean {
  return host.includes(':') && IPV6_RE.test(host) && isIPv6(host.replace(/%.*$/, ''));
}

export function parseTarget(input: string, opts: { identityFile?: string; defaultUser?: string } = {}): SshTarget {
  if (CONTROL_RE.test(input.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ''))) bad(input, 'it contains a control character');
  let rest = input.trim();
  if (rest === '') bad(input, 'it is empty');
  if (rest.startsWith('ssh://')) rest = rest.slice('ssh://'.length).replace(/\/$/, '');
  if (rest.startsWith('-')) bad(input, 'it starts with "-"');
  if (/\s/.test(rest)) bad(input, 'it contains white space');

  let user = opts.defaultUser ?? 'root';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (user.length > MAX_USER_LENGTH) bad(input, `the user name is ${user.length} characters long: no SSH server has a login over ${MAX_USER_LENGTH}`);
    if (!USER_RE.test(user)) bad(input, `${quote(user)} is not a valid user name`);
  }

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) bad(input, 'the "[" of an IPv6 address is not closed');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) bad(input, `unexpected ${quote(after)} after the address`);
      portText = after.slice(1);
    }
    if (!isIpv6(host)) bad(input, `${quote(host)} is not an IPv6 address`);
  } else if ((rest.match(/:/g) ?? []).length >= 2) {
    host = rest; // bare IPv6 literal, no port
    if (!isIpv6(host)) bad(input, `${quote(host)} is not an IPv6 address (put IPv6 in brackets to give a port)`);
  } else {
    const colon = rest.indexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    if (colon >= 0) portText = rest.slice(colon + 1);
    if (!HOSTNAME_RE.test(host)) bad(input, `${quote(host)} is not a host name or address`);
  }

  let port = 22;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) bad(input, `port ${quote(portText)} is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) bad(input, `port ${port} is out of range 1-65535`);
  }
  return Object.freeze({ user, host, port, ...(opts.identityFile ? { identityFile: opts.identityFile } : {}) });
}

/** user@host:port with IPv6 in brackets; the port only when not 22. */
export function formatTarget(t: SshTarget): string {
  const host = isIpv6(t.host) ? `[${t.host}]` : t.host;
  return `${t.user}@${host}${t.port === 22 ? '' : `:${t.port}`}`;
}

/** `user@host` as ssh(1) and nixos-anywhere's --target-host expect it (port passed separately). */
export function sshDestination(t: SshTarget): string {
  return `${t.user}@${t.host}`;
}

/** The name a known_hosts line uses: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(t: Pick<SshTarget, 'host' | 'port'>): string {
  return t.port === 22 ? t.host : `[${t.host}]:${t.port}`;
}

/**
 * Does a host name resolve here? (issue 21: a tailnet name such as web1.tail1234.ts.net resolves
 * only once the host joined the tailnet and only where the operator's machine runs Tailscale's
 * MagicDNS). getaddrinfo, as every connection of ssh2 and OpenSSH resolves names, so /etc/hosts,
 * nsswitch and the system resolver count; bounded by a deadline, since a resolver that does not
 * answer must not hang a run. An address literal needs no lookup.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** The addresses of `name`, or [] when it does not resolve (within `timeoutMs`). */
export type NameLookup = (name: string, timeoutMs: number) => Promise<string[]>;

export const systemLookup: NameLookup = async (name, timeoutMs) => {
  if (isIP(name)) return [name];
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string[]>((r) => { timer = setTimeout(() => r([]), timeoutMs); });
  try {
    return await Promise.race([lookup(name, { all: true }).then((a) => a.map((x) => x.address), () => []), late]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * The lock-out guard's ListenAddress rule (lockout.ts): sshd with services.openssh.listenAddresses
 * listens only on those addresses (sshd_config(5) ListenAddress; nixpkgs' sshd.nix writes one line
 * per entry, `addr[:port]`, the port null meaning every services.openssh.ports). Pure.
 */

/** One services.openssh.listenAddresses entry: sshd's `ListenAddress addr[:port]`. */
export interface ListenAddress {
  addr: string | null;
  /** null: every port of services.openssh.ports. */
  port: number | null;
}

export interface ListenLockout {
  code: 'sshd-listen-address';
  message: string;
  option: string;
}

const stripBrackets = (a: string) => a.replace(/^\[(.*)\]$/, '$1').toLowerCase();
const isIpv4 = (a: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(a);
const isIp = (a: string) => isIpv4(a) || (a.includes(':') && /^[0-9a-f:.]+$/i.test(a));
const WILDCARD = new Set(['0.0.0.0', '::', '*', '']);
function isLoopback(a: string): boolean {
  return a === 'localhost' || a === '::1' || (isIpv4(a) && a.startsWith('127.'));
}
/** Tailscale's addresses: 100.64.0.0/10 (CGNAT) and fd7a:115c:a1e0::/48. */
function isTailnet(a: string): boolean {
  if (isIpv4(a)) {
    const [x, y] = a.split('.').map(Number);
    return x === 100 && y! >= 64 && y! <= 127;
  }
  return a.startsWith('fd7a:115c:a1e0:');
}

/**
 * sshd's ListenAddress lines that serve the port (`serving`) against the address bootstrap
 * connects to. A wildcard serves every address; loopback serves nobody outside the host; a
 * tailnet address serves only that tailnet address (the host gets it when it joins, and sshd
 * cannot even bind it before); another address must be the one bootstrap connects to. A target
 * given by name cannot be compared here: a warning, unless every address is loopback. Pure.
 */
export function checkListenAddresses(serving: readonly ListenAddress[], e: { port: number; address?: string }): { lockout?: ListenLockout; warnings: string[] } {
  const addrs = serving.map((l) => stripBrackets(l.addr ?? ''));
  if (addrs.some((a) => WILDCARD.has(a))) return { warnings: [] };
  const target = e.address === undefined ? undefined : stripBrackets(e.address);
  if (target !== undefined && addrs.includes(target)) return { warnings: [] };
  const shown = addrs.join(', ') || 'no address';
  const option = `services.openssh.listenAddresses (add { addr = "${target !== undefined && isIp(target) ? target : '0.0.0.0'}"; }, or remove the option to listen everywhere)`;
  const lockout = (why: string): { lockout: ListenLockout; warnings: string[] } => ({ lockout: { code: 'sshd-listen-address', message: `sshd listens on port ${e.port} only on ${shown} (ListenAddress)${why}`, option }, warnings: [] });
  if (addrs.every(isLoopback)) return lockout(', which nobody outside the host reaches');
  if (target === undefined) return { warnings: [] };
  if (!isIp(target)) {
    return { warnings: [`sshd listens on port ${e.port} only on ${shown} (ListenAddress), and bootstrap connects to ${target}, a name not compared here: make sure it resolves to ${addrs.filter((a) => !isLoopback(a)).join(' or ')}`] };
  }
  if (addrs.filter((a) => !isLoopback(a)).every(isTailnet)) return lockout(`, a tailnet address, and bootstrap connects to ${target}`);
  return lockout(`, not on ${target} where bootstrap connects`);
}

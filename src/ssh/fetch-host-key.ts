/**
 * Waiting for a host to come back with an expected host key (after kexec, after the install
 * reboot). Each attempt is a bare handshake: we read the key the server presents and hang up
 * before logging in, so no trust decision or pin is involved. Behind jump hosts (ssh-config.ts)
 * the attempt goes through them, and they are checked as on every connection (`via`).
 */
import { Client } from 'ssh2';
import { buildHostKey, type HostKey } from './host-keys.js';
import { mapSshError } from './ssh-errors.js';
import type { SshTarget } from './target.js';
import { openRoute, type SessionPorts, type SshOptions } from './session.js';
import type { ResolvedTarget } from './ssh-config.js';

/** What a wait through jump hosts needs to log into them. */
export interface RouteVia {
  ports: SessionPorts;
  hostKeys: SshOptions['hostKeys'];
}

/**
 * The key the server at `target` presents, or a mapped connection error. No login to the target;
 * a target with jump hosts needs `via` (they are logged into, their keys checked).
 */
export async function fetchHostKey(target: SshTarget, timeoutMs: number, algorithms?: string[], via?: RouteVia): Promise<HostKey> {
  if (!(target as ResolvedTarget).jumps?.length) return fetchOnce(target, timeoutMs, algorithms);
  if (!via) throw new Error(`fetchHostKey: ${target.host} is behind jump hosts, and no route was given`);
  const route = await openRoute(via.ports, target, { hostKeys: via.hostKeys, timeoutMs });
  try {
    return await fetchOnce(target, timeoutMs, algorithms, route.sock);
  } finally {
    route.close();
  }
}

function fetchOnce(target: SshTarget, timeoutMs: number, algorithms?: string[], sock?: import('node:stream').Duplex): Promise<HostKey> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let key: HostKey | undefined;
    let done = false;
    const timer = setTimeout(() => settle(new Error('Timed out while waiting for handshake')), timeoutMs);
    function settle(e?: unknown) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.destroy();
      if (key) resolve(key);
      else reject(mapSshError(e, { target, timeoutMs, triedAuth: [] }));
    }
    client.on('error', (e) => settle(e));
    client.on('close', () => settle(new Error('Connection lost before handshake')));
    try {
      client.connect({
        ...(sock ? { sock } : { host: target.host, port: target.port }),
        username: target.user,
        readyTimeout: 0,
        ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
        hostVerifier: (blob: Buffer) => {
          key = buildHostKey(blob);
          setImmediate(() => settle());
          return false; // hang up: we only wanted the key
        },
      });
    } catch (e) {
      settle(e);
    }
  });
}

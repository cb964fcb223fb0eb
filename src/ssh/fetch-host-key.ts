/**
 * Waiting for a host to come back with an expected host key (after kexec, after the install
 * reboot). Each attempt is a bare handshake: we read the key the server presents and hang up
 * before logging in, so no trust decision or pin is involved.
 */
import { Client } from 'ssh2';
import { buildHostKey, type HostKey } from './host-keys.js';
import { mapSshError } from './ssh-errors.js';
import type { SshTarget } from './target.js';

/** The key the server at `target` presents, or a mapped connection error. No login. */
export function fetchHostKey(target: SshTarget, timeoutMs: number, algorithms?: string[]): Promise<HostKey> {
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
        host: target.host,
        port: target.port,
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

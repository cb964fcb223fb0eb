/**
 * Waiting for a host to come back with an expected host key (after kexec, after the install
 * reboot). Each attempt is a bare handshake: we read the key the server presents and hang up
 * before logging in, so no trust decision or pin is involved.
 */
import { Client } from 'ssh2';
import type { Clock } from '../context.js';
import { failure } from '../errors.js';
import { buildHostKey, type HostKey } from './host-keys.js';
import { mapSshError } from './ssh-errors.js';
import { formatTarget, type SshTarget } from './target.js';

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

export interface WaitForHostKeyOptions {
  /** Give up after this long. */
  deadlineMs: number;
  /** Pause between attempts (default 2 s). */
  intervalMs?: number;
  /** Per-attempt connect timeout (default 5 s). */
  attemptTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Poll `target` until it presents the key with `expected` fingerprint. Throws failure
 * 'host-key-wait-timeout' at the deadline, naming the last key or error seen.
 */
export async function runWaitForHostKey(clock: Clock, target: SshTarget, expected: string, o: WaitForHostKeyOptions): Promise<HostKey> {
  const end = clock.now().getTime() + o.deadlineMs;
  let lastKey: string | undefined;
  let lastError = 'no answer';
  for (let attempt = 1; attempt <= 10_000; attempt++) {
    if (o.signal?.aborted) throw failure('interrupted', 'interrupted');
    const left = end - clock.now().getTime();
    if (left <= 0) break;
    try {
      const key = await fetchHostKey(target, Math.min(o.attemptTimeoutMs ?? 5_000, left));
      if (key.fingerprint === expected) return key;
      lastKey = key.fingerprint;
    } catch (e) {
      lastError = (e as Error).message;
    }
    const pause = Math.min(o.intervalMs ?? 2_000, end - clock.now().getTime());
    if (pause > 0) await clock.sleep(pause);
  }
  throw failure(
    'host-key-wait-timeout',
    `${formatTarget(target)} did not present host key ${expected} within ${Math.round(o.deadlineMs / 1000)} s (${lastKey ? `it presented ${lastKey}` : `last: ${lastError}`})`,
    'check on the console whether the machine booted the new system; if it did, its host key is not the one we provisioned',
  );
}

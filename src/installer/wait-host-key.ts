/**
 * After the reboot phase: wait until the target presents the host key it must have now — the
 * provisioned key, or with --copy-host-keys the one pinned at the start — then pin it in the
 * flake's .bootstrap/known_hosts. A different key is a failure that names both fingerprints; keys
 * listed in `tolerate` (the kexec installer's, seen earlier in this run) only mean "not yet".
 *
 * Each attempt is a bare handshake (src/ssh/fetch-host-key.ts): no login, so no
 * credentials are needed to prove who answers. Clock and sleep are injected so tests do not wait.
 */
import type { Clock } from '../context.js';
import { failure, messageOf, usageError } from '../errors.js';
import { buildHostKey, buildHostKeyAlgorithms, keyLabel, type HostKey } from '../ssh/host-keys.js';
import { writePinnedKey } from '../ssh/known-hosts-file.js';
import { formatTarget, knownHostsName, type SshTarget } from '../ssh/target.js';
import { fetchHostKey } from '../ssh/fetch-host-key.js';

/** ssh2's host key algorithms; the expected key's type is moved to the front. */
const DEFAULT_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

export const DEFAULT_HOST_KEY_DEADLINE_MS = 10 * 60_000;

/** "ssh-ed25519 AAAA… comment" → HostKey. @throws usageError 'bad-public-key' */
export function parsePublicKeyLine(line: string): HostKey {
  const [type, b64] = line.trim().split(/\s+/);
  const key = type && b64 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? buildHostKey(Buffer.from(b64, 'base64')) : undefined;
  if (!key || key.type !== type) throw usageError('bad-public-key', `"${line.slice(0, 40)}…" is not an OpenSSH public key line`, 'give the contents of a .pub file: "ssh-ed25519 AAAA… comment"');
  return key;
}

export type Probe = (target: SshTarget, timeoutMs: number, algorithms: string[]) => Promise<HostKey>;

export interface WaitHostKeyOptions {
  /** The key the host must present. */
  expected: HostKey;
  /** Fingerprints that mean "the new system is not up yet" (the installer's key). */
  tolerate?: string[];
  /** Default 10 minutes. */
  deadlineMs?: number;
  /** Pause between attempts, default 5 s. */
  intervalMs?: number;
  /** Per-attempt handshake timeout, default 10 s. */
  attemptTimeoutMs?: number;
  /** Pin the key here on success: <flake>/.bootstrap/known_hosts. */
  knownHostsFile?: string;
  signal?: AbortSignal;
  /** Progress, e.g. a task's update(). */
  onAttempt?: (detail: string) => void;
  /** For tests: the handshake. Default fetchHostKey. */
  probe?: Probe;
}

export { buildKnownHostsPath } from '../ssh/known-hosts-file.js';

const describe = (k: HostKey) => `${k.fingerprint} (${keyLabel(k.type)})`;

/**
 * Poll until `target` presents `expected`, then pin it.
 * @throws failure 'host-key-mismatch' when another key answers, 'host-key-wait-timeout' at the
 *   deadline, 'interrupted' when `signal` aborts
 */
export async function runWaitForProvisionedKey(clock: Clock, target: SshTarget, o: WaitHostKeyOptions): Promise<HostKey> {
  const probe = o.probe ?? fetchHostKey;
  const deadlineMs = o.deadlineMs ?? DEFAULT_HOST_KEY_DEADLINE_MS;
  const end = clock.now().getTime() + deadlineMs;
  const algorithms = buildHostKeyAlgorithms([o.expected.type], DEFAULT_ALGORITHMS);
  const who = formatTarget(target);
  let last = 'no answer yet';
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw failure('interrupted', `interrupted while waiting for ${who}`);
    const left = end - clock.now().getTime();
    if (left <= 0) break;
    o.onAttempt?.(`waiting for ${who} (attempt ${attempt}, ${Math.ceil(left / 1000)} s left)`);
    let key: HostKey | undefined;
    try {
      key = await probe(target, Math.min(o.attemptTimeoutMs ?? 10_000, left), algorithms);
    } catch (e) {
      last = messageOf(e); // refused, reset, timed out: the machine is still rebooting
    }
    if (key?.fingerprint === o.expected.fingerprint) {
      if (o.knownHostsFile) await pinHostKey(o.knownHostsFile, target, key);
      return key;
    }
    if (key && !o.tolerate?.includes(key.fingerprint)) {
      throw failure(
        'host-key-mismatch',
        `${who} presents host key ${describe(key)}, but the installed system must present ${describe(o.expected)}`,
        'the machine did not boot the system we installed (check its console), or another machine answers at that address; nothing was pinned',
      );
    }
    if (key) last = `it still presents the installer's key ${key.fingerprint}`;
    const pause = Math.min(o.intervalMs ?? 5_000, end - clock.now().getTime());
    if (pause > 0) await clock.sleep(pause);
  }
  throw failure(
    'host-key-wait-timeout',
    `${who} did not come back with host key ${o.expected.fingerprint} within ${Math.round(deadlineMs / 1000)} s (last: ${last})`,
    'check on the console whether the machine booted the new system; then run again with --resume to retry the check',
  );
}

/** Pin `key` for `target` in an OpenSSH known_hosts file (replacing that name's key of the same type). */
export async function pinHostKey(file: string, target: SshTarget, key: HostKey): Promise<void> {
  await writePinnedKey(file, knownHostsName(target), key);
}

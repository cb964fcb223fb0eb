/**
 * One SSH connection (ssh2) to a target (through its jump hosts, if any), with every host key checked by a HostKeyPolicy, and
 * commands run on it over exec channels with stdin. `withSession` closes it in finally.
 * Every failure is a one-line BootstrapError (ssh-errors.ts); ctx.signal aborts the connection.
 */
import { Client, type AnyAuthMethod, type ClientChannel } from 'ssh2';
import type { AppContext } from '../context.js';
import { failure, isBootstrapError, type BootstrapError } from '../errors.js';
import { planAuth, buildAuthHandler } from './auth.js';
import { startDeadline } from './deadline.js';
import { buildHostKey, buildHostKeyAlgorithms, type HostKey } from './host-keys.js';
import type { HostKeyDecision, HostKeyPolicy } from './host-key-policy.js';
import { buildTimeoutError, mapSshError, type SshErrorContext } from './ssh-errors.js';
import type { ResolvedTarget } from './ssh-config.js';
import { formatTarget, type SshTarget } from './target.js';
import type { Duplex } from 'node:stream';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** ssh2's host key algorithms (ed25519 first), reordered so a known key type comes first. */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

export interface SshOptions {
  hostKeys: HostKeyPolicy;
  identityFile?: string;
  passwordEnv?: string;
  /** Connect deadline: TCP, handshake and login (default 10 s). Paused while a prompt is open. */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status, null when the command was killed by a signal or the channel closed without one. */
  code: number | null;
  signal: string | null;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** Give up on the command after this long (the connection is closed). */
  timeoutMs?: number;
}

export interface SshSession {
  readonly target: SshTarget;
  readonly hostKey: HostKey;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  close(): void;
}

export type SessionPorts = Pick<AppContext, 'out' | 'prompts' | 'env' | 'signal'>;

function abortError(signal: AbortSignal): BootstrapError {
  return isBootstrapError(signal.reason) ? signal.reason : failure('interrupted', 'interrupted');
}

/**
 * Connect, verify the host key, log in. Resolves when the session is ready for exec. A resolved
 * target (ssh-config.ts) with jump hosts is reached through each hop in turn (a direct-tcpip
 * channel of the hop before it): every hop's host key goes through the same policy, under the
 * hop's own name, before anything is sent through it, so a wrong bastion key stops the run
 * before the target is contacted.
 */
export async function openSession(ports: SessionPorts, target: SshTarget, opts: SshOptions): Promise<SshSession> {
  if (ports.signal.aborted) throw abortError(ports.signal);
  const route = await openRoute(ports, target, opts);
  let conn: { client: Client; hostKey: HostKey; ectx: SshErrorContext };
  try {
    conn = await connectOne(ports, target, opts, route.sock);
  } catch (e) {
    route.close();
    throw e;
  }
  const { client, hostKey, ectx } = conn;
  let closed = false;
  return {
    target,
    hostKey,
    exec: (command, execOpts = {}) => runExec(client, ports, ectx, command, execOpts),
    close() {
      if (closed) return;
      closed = true;
      client.end();
      route.close();
    },
  };
}

export interface Route {
  /** A channel to the target through the last jump host; undefined for a direct connection. */
  sock: Duplex | undefined;
  /** Close the jump hosts' connections, last hop first. */
  close(): void;
}

/**
 * The way to a resolved target's sshd: each jump host (ssh-config.ts) logged into in turn, its
 * host key checked by the same policy under its own name, and a channel opened to the next. A
 * target without jumps gets no socket (ssh2 connects directly).
 */
export async function openRoute(ports: SessionPorts, target: SshTarget, opts: Pick<SshOptions, 'hostKeys' | 'timeoutMs'>): Promise<Route> {
  const jumps = (target as ResolvedTarget).jumps ?? [];
  const hops: Client[] = [];
  const close = () => { for (const c of hops.splice(0).reverse()) c.end(); };
  let sock: Duplex | undefined;
  try {
    for (const [i, hop] of jumps.entries()) {
      // A jump host logs in with its own config (IdentityFile, IdentityAgent): -i and a password are the target's.
      const c = await connectOne(ports, hop, { hostKeys: opts.hostKeys, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }, sock);
      hops.push(c.client);
      sock = await forwardThrough(ports, c.client, c.ectx, jumps[i + 1] ?? target, opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    }
  } catch (e) {
    close();
    throw e;
  }
  return { sock, close };
}

/** A direct-tcpip channel from `via` to `next` (host and port as `via` resolves them), with a deadline. */
function forwardThrough(ports: SessionPorts, via: Client, ectx: SshErrorContext, next: SshTarget, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(failure('ssh-timeout', `${formatTarget(ectx.target)} did not open a channel to ${next.host} port ${next.port} within ${Math.round(timeoutMs / 1000)} s`, 'check that the jump host reaches the target (its firewall, the address in the ssh config)')), timeoutMs);
    via.forwardOut('127.0.0.1', 0, next.host, next.port, (e, stream) => {
      clearTimeout(timer);
      if (e) {
        reject(failure('ssh-jump-failed', `jump host ${formatTarget(ectx.target)} could not reach ${next.host} port ${next.port}: ${e.message}`, 'check the target address as the jump host sees it, and that the jump host allows forwarding (AllowTcpForwarding)', e));
        return;
      }
      ports.out.debug(`channel through ${formatTarget(ectx.target)} to ${next.host}:${next.port}`);
      resolve(stream);
    });
  });
}

/** One SSH connection (directly, or over `sock`): handshake, host key policy, login. */
async function connectOne(ports: SessionPorts, target: SshTarget, opts: SshOptions, sock?: Duplex): Promise<{ client: Client; hostKey: HostKey; ectx: SshErrorContext }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const r = target as ResolvedTarget;
  const auth = planAuth({
    identityFile: opts.identityFile ?? target.identityFile,
    passwordEnv: opts.passwordEnv,
    ...(r.identityFiles ? { identityFiles: r.identityFiles } : {}),
    ...(r.identityAgent !== undefined ? { agent: r.identityAgent } : {}),
    ...(r.identitiesOnly ? { identitiesOnly: true } : {}),
  }, ports.env, (m) => ports.out.debug(m));
  const ectx: SshErrorContext = { target, timeoutMs, triedAuth: auth.labels };
  const knownTypes = await opts.hostKeys.knownTypes(target);
  const methods: AnyAuthMethod[] = auth.methods(target.user);

  const client = new Client();
  let presented: HostKey | undefined;
  let decision: (HostKeyDecision & { trust: true }) | undefined;
  let policyError: unknown;
  let committed: Promise<void> | undefined;

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const deadline = startDeadline(timeoutMs, () => fail(buildTimeoutError(ectx)));
    const onAbort = () => fail(abortError(ports.signal));
    const finish = () => {
      settled = true;
      deadline.clear();
      ports.signal.removeEventListener('abort', onAbort);
    };
    function fail(e: unknown) {
      if (settled) return;
      finish();
      client.destroy();
      reject(mapSshError(policyError ?? e, ectx));
    }
    ports.signal.addEventListener('abort', onAbort, { once: true });
    // An abort while the pins were read (above) fired no event we listened to.
    if (ports.signal.aborted) return onAbort();

    client.on('error', (e: Error & { level?: string }) => {
      // ssh2 reports a failed agent as an error, then goes on with the next method.
      if (e.level === 'agent') return ports.out.debug(`ssh-agent: ${e.message}`);
      fail(e);
    });
    client.on('close', () => fail(new Error('Connection lost before handshake')));
    client.on('handshake', () => {
      // The key exchange proved the host holds the key: record the pin now.
      if (presented && decision) committed = opts.hostKeys.commit(target, presented, decision);
    });
    client.on('ready', () => {
      (committed ?? Promise.resolve()).then(
        () => {
          if (settled) return;
          finish();
          resolve();
        },
        (e) => fail(e),
      );
    });
    try {
      client.connect({
        ...(sock ? { sock } : { host: target.host, port: target.port }),
        username: target.user,
        readyTimeout: 0, // our own deadline, which pauses while a prompt is open
        keepaliveInterval: 15_000,
        authHandler: buildAuthHandler(methods),
        ...(knownTypes.length ? { algorithms: { serverHostKey: buildHostKeyAlgorithms(knownTypes, HOST_KEY_ALGORITHMS) as never } } : {}),
        hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
          presented = buildHostKey(blob);
          opts.hostKeys.verify(target, presented, (asking) => (asking ? deadline.pause() : deadline.resume())).then(
            (d) => {
              decision = d;
              ports.out.debug(`host key ${presented!.fingerprint} of ${formatTarget(target)}: ${d.reason}`);
              verify(true);
            },
            (e) => {
              policyError = e;
              verify(false);
            },
          );
        },
      });
    } catch (e) {
      fail(e);
    }
  });
  return { client, hostKey: presented!, ectx };
}

function runExec(client: Client, ports: SessionPorts, ectx: SshErrorContext, command: string, o: ExecOptions): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    let channel: ClientChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      ports.signal.removeEventListener('abort', onAbort);
      client.off('close', onClose);
      client.off('error', onError);
    };
    const fail = (e: unknown) => {
      if (settled) return;
      cleanup();
      channel?.destroy();
      reject(e);
    };
    const onAbort = () => {
      fail(abortError(ports.signal));
      client.destroy();
    };
    const onClose = () => fail(failure('ssh-connection-lost', `the connection to ${formatTarget(ectx.target)} closed while a command ran`, 'the target may have rebooted or dropped the network; run again'));
    const onError = (e: Error) => fail(mapSshError(e, ectx));
    if (ports.signal.aborted) return onAbort();
    ports.signal.addEventListener('abort', onAbort, { once: true });
    client.on('close', onClose);
    client.on('error', onError);
    if (o.timeoutMs) {
      timer = setTimeout(() => {
        fail(failure('ssh-command-timeout', `a command on ${formatTarget(ectx.target)} ran longer than ${Math.round(o.timeoutMs! / 1000)} s`, 'the target may be overloaded or stuck; run again, or log in and look'));
        client.destroy();
      }, o.timeoutMs);
    }
    client.exec(command, (e, stream) => {
      if (e) return fail(failure('ssh-exec-failed', `${formatTarget(ectx.target)} refused to run a command: ${e.message}`, 'the account may have no shell, or sshd forbids command execution (ForceCommand)', e));
      channel = stream;
      stream.on('data', (c: Buffer) => out.push(c));
      stream.stderr.on('data', (c: Buffer) => err.push(c));
      stream.on('close', (code: number | null | undefined, signal?: string) => {
        if (settled) return;
        cleanup();
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          code: typeof code === 'number' ? code : null,
          signal: signal ?? null,
        });
      });
      stream.end(o.stdin ?? '');
    });
  });
}

/** Open a session, run `fn`, and close the session whatever happens. */
export async function withSession<T>(ports: SessionPorts, target: SshTarget, opts: SshOptions, fn: (s: SshSession) => Promise<T>): Promise<T> {
  const session = await openSession(ports, target, opts);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

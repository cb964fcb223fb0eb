/**
 * ssh2 and socket errors → one-line BootstrapErrors with a hint. Pure, so every mapping is
 * table-tested without a network.
 */
import { BootstrapError, failure, isBootstrapError } from '../errors.js';
import { formatTarget, type SshTarget } from './target.js';

export interface SshErrorContext {
  target: SshTarget;
  timeoutMs: number;
  /** What we offered to log in with, for the auth hint: "key ~/.ssh/id_ed25519", "ssh-agent" … */
  triedAuth: string[];
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** The error raised when the connect deadline passes (our own timer, paused while a prompt is open). */
export function buildTimeoutError(c: SshErrorContext): BootstrapError {
  return failure(
    'ssh-timeout',
    `no SSH answer from ${c.target.host} port ${c.target.port} within ${seconds(c.timeoutMs)}`,
    'check the address and that the machine is up and its firewall lets SSH in; on a slow link raise --timeout',
  );
}

export function mapSshError(e: unknown, c: SshErrorContext): BootstrapError {
  if (isBootstrapError(e)) return e;
  const err = e as NodeJS.ErrnoException & { level?: string };
  const code = err?.code;
  const msg = err instanceof Error ? err.message : String(e);
  const where = `${c.target.host} port ${c.target.port}`;
  const who = formatTarget(c.target);

  switch (code) {
    case 'ECONNREFUSED':
      return failure('ssh-connection-refused', `connection to ${where} was refused`, 'nothing listens there: check the port, and that sshd runs on the target', e);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return failure('ssh-unreachable', `${c.target.host} is unreachable (${code})`, 'check the address, and that this machine has a route to it (VPN, IPv6 connectivity)', e);
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return failure('ssh-dns', `cannot resolve the host name "${c.target.host}"`, 'check the spelling, or give the IP address', e);
    case 'EAI_AGAIN':
      return failure('ssh-dns', `looking up "${c.target.host}" failed for now (EAI_AGAIN)`, 'check this machine\'s DNS and network, then run again', e);
    case 'ETIMEDOUT':
      return buildTimeoutError(c);
    case 'ECONNRESET':
    case 'EPIPE':
      return failure('ssh-connection-lost', `${where} closed the connection (${code})`, 'sshd may be restarting, or refusing this client (MaxStartups, fail2ban); try again in a moment', e);
  }
  if (err?.level === 'client-authentication' || /All configured authentication methods failed/.test(msg)) {
    const tried = c.triedAuth.length ? c.triedAuth.join(', ') : 'nothing: no key, agent or password was available';
    return failure(
      'ssh-auth-failed',
      `${who} refused every login we offered (${tried})`,
      'pass the right key with -i FILE, load it into ssh-agent, or use --password-env VAR; the key must be in the target user\'s authorized_keys',
      e,
    );
  }
  if (/Host denied|verification failed/i.test(msg)) {
    return failure('host-key-rejected', `the host key of ${who} was not accepted`, 'run again with --debug to see why', e);
  }
  if (/Timed out while waiting for handshake/.test(msg)) return buildTimeoutError(c);
  if (/Connection lost before handshake|No response from server|Not connected/i.test(msg)) {
    return failure('ssh-connection-lost', `${where} closed the connection before SSH was set up`, 'is it an SSH server? Check the port; sshd may also be refusing this client (MaxStartups, fail2ban)', e);
  }
  if (err?.level === 'handshake' || /handshake|no matching/i.test(msg)) {
    return failure('ssh-handshake-failed', `SSH handshake with ${where} failed: ${msg.split('\n')[0]}`, 'the server and this tool share no algorithm; check the target\'s sshd_config', e);
  }
  return failure('ssh-failed', `SSH to ${who} failed: ${msg.split('\n')[0]}`, 'run again with --debug for details', e);
}

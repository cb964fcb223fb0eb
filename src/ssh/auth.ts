/**
 * Login methods for one connection, in the order we offer them: the -i key first (so a full agent
 * cannot use up the server's MaxAuthTries before it), then ssh-agent, then the default key files
 * (~/.ssh/id_ed25519, id_ecdsa, id_rsa; only without -i, as ssh(1) with IdentitiesOnly), then a
 * password from an environment variable (installer ISOs), also answered to keyboard-interactive.
 * The ssh config's IdentityFile keys come right after -i and, like -i, replace the default files;
 * its IdentityAgent (1Password's agent socket, say) replaces $SSH_AUTH_SOCK.
 * Key files and passwords are registered with the redactor as soon as they are read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2, { type AnyAuthMethod, type AuthenticationType, type AuthHandlerMiddleware, type ParsedKey } from 'ssh2';
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';

export interface AuthOptions {
  identityFile?: string;
  /** IdentityFile keys of the ssh config (ssh-config.ts), after -i; a missing or encrypted one is skipped. */
  identityFiles?: readonly string[];
  /** IdentityAgent: a socket path, null for `none`; undefined means $SSH_AUTH_SOCK. */
  agent?: string | null;
  /** IdentitiesOnly: no agent when every config IdentityFile is a key file we could load. */
  identitiesOnly?: boolean;
  /** Name of the environment variable that holds the password (never the password itself). */
  passwordEnv?: string;
}

export interface AuthPlan {
  /** Human labels of what will be offered, for the "refused every login" message. */
  labels: string[];
  /** Builds the method list for one user. */
  methods(username: string): AnyAuthMethod[];
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function isEncryptedKeyError(e: Error): boolean {
  return /encrypted|passphrase/i.test(e.message);
}

/** Parse a private key file; undefined when it needs a passphrase or is not a private key. */
function loadKey(path: string): { key: ParsedKey } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { problem: `cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  registerSecret(text);
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) return { problem: isEncryptedKeyError(parsed) ? 'it is encrypted' : `it is not a private key (${parsed.message})` };
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) return { problem: 'it is a public key, not a private key' };
  return { key };
}

/** Reads key files and the password variable; throws a usage error for a bad -i or an empty variable. */
export function planAuth(opts: AuthOptions, env: NodeJS.ProcessEnv, debug: (m: string) => void): AuthPlan {
  const labels: string[] = [];
  const keys: ParsedKey[] = [];
  if (opts.identityFile) {
    const r = loadKey(opts.identityFile);
    if ('problem' in r) {
      const hint = r.problem === 'it is encrypted'
        ? `load it into ssh-agent (ssh-add ${opts.identityFile}) and run again without -i, or give an unencrypted key`
        : 'give the private key file (not the .pub) with -i';
      throw usageError('bad-identity', `cannot use the key ${opts.identityFile}: ${r.problem}`, hint);
    }
    keys.push(r.key);
    labels.push(`key ${opts.identityFile}`);
  }
  const named = !!opts.identityFile || !!opts.identityFiles?.length;
  // With IdentitiesOnly ssh(1) offers the agent only the keys the IdentityFiles name: a .pub, an
  // encrypted or a missing file is a key the agent may hold, so the agent stays (ssh2 offers all of
  // its keys, after ours); when every named key was loaded, the agent is not asked.
  let needAgent = !opts.identitiesOnly || !opts.identityFiles?.length;
  for (const path of opts.identityFiles ?? []) {
    if (path === opts.identityFile) continue;
    // ssh(1) skips a missing IdentityFile; a .pub names a key the agent holds (1Password's way).
    if (!existsSync(path) || path.endsWith('.pub')) {
      needAgent = true;
      debug(`ssh config IdentityFile ${path}: ${existsSync(path) ? 'a public key, left to the agent' : 'no such file, skipped'}`);
      continue;
    }
    const r = loadKey(path);
    if ('problem' in r) {
      needAgent = true;
      debug(`skipping ${path}: ${r.problem}`);
      continue;
    }
    keys.push(r.key);
    labels.push(`key ${path}`);
  }
  const agentPath = opts.agent === undefined ? env.SSH_AUTH_SOCK : opts.agent;
  const agent = needAgent && agentPath && existsSync(agentPath) ? agentPath : undefined;
  if (agent) labels.push(opts.agent ? `ssh-agent ${agent}` : 'ssh-agent');
  else if (opts.agent) debug(`IdentityAgent ${opts.agent}: no such socket`);
  if (!named && env.HOME) {
    for (const name of DEFAULT_KEYS) {
      const path = join(env.HOME, '.ssh', name);
      if (!existsSync(path)) continue;
      const r = loadKey(path);
      if ('problem' in r) {
        debug(`skipping ${path}: ${r.problem}`); // an encrypted default key is usually in the agent
        continue;
      }
      keys.push(r.key);
      labels.push(`key ${path}`);
    }
  }
  let password: string | undefined;
  if (opts.passwordEnv) {
    password = env[opts.passwordEnv];
    if (!password) throw usageError('missing-password', `--password-env ${opts.passwordEnv}: that environment variable is empty or not set`, `export ${opts.passwordEnv}=… before running, or log in with a key (-i)`);
    registerSecret(password);
    labels.push(`password from $${opts.passwordEnv}`);
  }
  return {
    labels,
    methods(username) {
      const m: AnyAuthMethod[] = [];
      // Named keys (-i, then the config's) before the agent, so a full agent cannot use up MaxAuthTries.
      if (named) for (const k of keys) m.push({ type: 'publickey', username, key: k });
      if (agent) m.push({ type: 'agent', username, agent });
      if (!named) for (const k of keys) m.push({ type: 'publickey', username, key: k });
      if (password !== undefined) {
        const pw = password;
        m.push({ type: 'password', username, password: pw });
        m.push({ type: 'keyboard-interactive', username, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => pw)) });
      }
      return m;
    },
  };
}

/** The method kinds a server's "methods that can continue" list must name for each of ours. */
const SERVER_NAME: Record<AuthenticationType, AuthenticationType> = {
  publickey: 'publickey', agent: 'publickey', password: 'password', 'keyboard-interactive': 'keyboard-interactive', hostbased: 'hostbased', none: 'none',
};

/** An ssh2 authHandler that walks the list, skipping methods the server said it does not take. */
export function buildAuthHandler(methods: AnyAuthMethod[]): AuthHandlerMiddleware {
  let i = 0;
  return (authsLeft, _partial, next) => {
    while (i < methods.length) {
      const m = methods[i++]!;
      if (!authsLeft || authsLeft.includes(SERVER_NAME[m.type])) return next(m);
    }
    return next(false as unknown as AnyAuthMethod); // ssh2: false means "no more methods"
  };
}

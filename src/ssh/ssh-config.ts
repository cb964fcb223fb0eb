/**
 * The user's ssh config, resolved the way OpenSSH resolves it: `ssh -G HOST` (as nixos-anywhere
 * does, issue 20) prints the effective HostName, Port, User, IdentityFile, IdentitiesOnly,
 * IdentityAgent and ProxyJump after every Host/Match block and Include. We read those and make a
 * ResolvedTarget: the parsed target value with the resolved values, plus the route (jump hosts,
 * each resolved the same way). What the user typed on the command line wins over the config, as
 * with ssh(1): `-l`/`-p` are passed only when the target text names a user or a port.
 *
 * Parsing is pure (parseSshG, buildResolvedTarget); resolveTarget runs ssh through the one
 * subprocess door.
 */
import { userInfo } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../exec/run.js';
import { quote, usageError } from '../errors.js';
import { formatTarget, parseTarget, type SshTarget } from './target.js';

/** What `ssh -G` says about one destination (the keywords we use). */
export interface SshGConfig {
  host: string;
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  identityAgent?: string;
  proxyJump?: string;
  proxyCommand?: string;
  hostKeyAlias?: string;
}

/**
 * The target with the config applied. `host`/`port`/`user` are what the connection uses; `alias`
 * is the name the user gave when the config knows it by another HostName (the installer gets the
 * alias, so its ssh applies the same config); `jumps` is the route, first hop first.
 */
export interface ResolvedTarget extends SshTarget {
  readonly alias?: string;
  /** IdentityFile entries of the config, ~ expanded (after the -i key, which stays first). */
  readonly identityFiles?: readonly string[];
  readonly identitiesOnly?: boolean;
  /** IdentityAgent: a socket path, or null for `none`; absent means $SSH_AUTH_SOCK. */
  readonly identityAgent?: string | null;
  readonly jumps?: readonly ResolvedTarget[];
  /** The config file given with --ssh-config (ssh -F), for every ssh we start. */
  readonly sshConfig?: string;
}

/** OpenSSH's default IdentityFile list, which -G prints when the config names none. */
const DEFAULT_IDENTITIES = new Set(['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((n) => `~/.ssh/${n}`));

/** Parse `ssh -G` output. Pure. */
export function parseSshG(text: string): SshGConfig {
  const g: SshGConfig = { host: '', hostname: '', port: 22, user: '', identityFiles: [], identitiesOnly: false };
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    switch (key.toLowerCase()) {
      case 'host': g.host = value; break;
      case 'hostname': g.hostname = value; break;
      case 'port': g.port = Number(value); break;
      case 'user': g.user = value; break;
      case 'identityfile': g.identityFiles.push(value); break;
      case 'identitiesonly': g.identitiesOnly = value === 'yes'; break;
      case 'identityagent': g.identityAgent = value; break;
      case 'proxyjump': g.proxyJump = value; break;
      case 'proxycommand': g.proxyCommand = value; break;
      case 'hostkeyalias': g.hostKeyAlias = value; break;
    }
  }
  return g;
}

/** Which parts the target text names itself (ssh(1): the command line wins over the config). Pure. */
export function explicitParts(input: string): { user: boolean; port: boolean } {
  let rest = input.trim();
  if (rest.startsWith('ssh://')) rest = rest.slice('ssh://'.length).replace(/\/$/, '');
  const at = rest.lastIndexOf('@');
  const user = at >= 0;
  rest = rest.slice(at + 1);
  const port = rest.startsWith('[') ? /\]:\d+$/.test(rest) : (rest.match(/:/g) ?? []).length === 1;
  return { user, port };
}

/** `~/x` → HOME/x. Pure. */
export function expandHome(path: string, home: string | undefined): string {
  if (home && (path === '~' || path.startsWith('~/'))) return join(home, path.slice(2));
  return path;
}

export interface ResolveFacts {
  /** The target as parsed from the text (default user applied). */
  target: SshTarget;
  explicit: { user: boolean; port: boolean };
  g: SshGConfig;
  home: string | undefined;
  /** The local user name: -G reports it when the config sets no User. */
  localUser: string;
  env: NodeJS.ProcessEnv;
  /** A jump host takes ssh's own default user (the local one); the target keeps ours (root). */
  hop: boolean;
}

/** The resolved values of one destination (no route yet). Pure. */
export function buildResolvedTarget(f: ResolveFacts): ResolvedTarget {
  const { g, target } = f;
  if (g.proxyCommand && g.proxyCommand !== 'none') {
    throw usageError('unsupported-ssh-config', `the ssh config gives ${target.host} a ProxyCommand (${quote(g.proxyCommand)}), which bootstrap does not run`, 'reach it with ProxyJump (a chain of jump hosts) instead, or pass --ssh-config FILE with a config that has no ProxyCommand for it');
  }
  if (g.hostKeyAlias) {
    throw usageError('unsupported-ssh-config', `the ssh config gives ${target.host} a HostKeyAlias, which bootstrap does not use`, 'remove HostKeyAlias for this host; bootstrap pins host keys under the resolved HostName and port');
  }
  // -G prints the local user when the config sets none: then our default (root) stands.
  const user = f.explicit.user || (!f.hop && g.user === f.localUser) ? target.user : g.user;
  const host = g.hostname ? parseTarget(`x@${g.hostname.includes(':') && !g.hostname.startsWith('[') ? `[${g.hostname}]` : g.hostname}`).host : target.host;
  const port = f.explicit.port ? target.port : g.port;
  const files = g.identityFiles.every((p) => DEFAULT_IDENTITIES.has(p)) ? [] : g.identityFiles.map((p) => expandHome(p, f.home));
  let agent: string | null | undefined;
  if (g.identityAgent !== undefined) {
    if (g.identityAgent === 'none') agent = null;
    else if (g.identityAgent === 'SSH_AUTH_SOCK') agent = undefined;
    else if (g.identityAgent.startsWith('$')) agent = f.env[g.identityAgent.slice(1).replace(/^\{(.*)\}$/, '$1')] ?? null;
    else agent = expandHome(g.identityAgent, f.home);
  }
  return Object.freeze({
    ...target,
    user, host, port,
    ...(host !== target.host ? { alias: target.host } : {}),
    ...(files.length ? { identityFiles: Object.freeze(files) } : {}),
    ...(g.identitiesOnly ? { identitiesOnly: true } : {}),
    ...(agent !== undefined ? { identityAgent: agent } : {}),
  });
}

/**
 * ProxyJump `a,user@b:2222` → the hop texts, or [] for none. ssh -G prints a hop with a port as
 * `user@[host]:port` even for a name or an IPv4 address; the brackets go. Pure.
 */
export function splitProxyJump(value: string | undefined): string[] {
  if (!value || value === 'none') return [];
  return value.split(',').map((s) => s.trim().replace(/^(.*@)?\[([^\]:]+)\](:\d+)?$/, '$1$2$3')).filter(Boolean);
}

export interface ResolvePorts {
  run: Runner;
  env: NodeJS.ProcessEnv;
  debug?: (m: string) => void;
}

export interface ResolveOptions {
  /** --ssh-config FILE (ssh -F). */
  configFile?: string;
}

const MAX_HOPS = 8;

/**
 * The -F argument: --ssh-config, else the config of $HOME when HOME is not the account's home
 * (ssh(1) reads the account's home, our keys and known_hosts follow $HOME), else ssh's default.
 */
export function planConfigFile(env: NodeJS.ProcessEnv, configFile: string | undefined, accountHome: string): string | undefined {
  if (configFile) return configFile;
  const home = env.HOME;
  if (!home || home === accountHome) return undefined;
  const own = join(home, '.ssh', 'config');
  return existsSync(own) ? own : '/dev/null';
}

/**
 * Resolve `input` (the target text) with the ssh config into a ResolvedTarget, jump hosts
 * included. Without ssh on PATH the parsed target is returned as it is (nothing to resolve with).
 */
export async function resolveTarget(ports: ResolvePorts, input: string, target: SshTarget, o: ResolveOptions = {}): Promise<ResolvedTarget> {
  let account: { username: string; homedir: string };
  try {
    account = userInfo();
  } catch {
    account = { username: '', homedir: '' };
  }
  const configFile = planConfigFile(ports.env, o.configFile, account.homedir);
  if (o.configFile && !existsSync(o.configFile)) {
    throw usageError('bad-ssh-config', `--ssh-config ${o.configFile}: no such file`, 'give the path of an ssh_config(5) file');
  }
  const g = async (host: string, explicit: { user: boolean; port: boolean }, t: SshTarget): Promise<SshGConfig | undefined> => {
    const argv = ['ssh', '-G', ...(configFile ? ['-F', configFile] : []), ...(explicit.user ? ['-l', t.user] : []), ...(explicit.port ? ['-p', String(t.port)] : []), '--', host];
    let r;
    try {
      r = await ports.run(argv, { check: false, timeoutMs: 10_000 });
    } catch (e) {
      ports.debug?.(`ssh -G: ${(e as Error).message}; using the target as given`);
      return undefined;
    }
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n').slice(-1)[0] ?? `exit ${r.code}`;
      throw usageError('bad-ssh-config', `ssh could not read its config for ${host}: ${why}`, configFile ? `fix ${configFile}` : 'fix ~/.ssh/config (ssh -G HOST shows what ssh makes of it), or pass --ssh-config FILE');
    }
    return parseSshG(r.stdout);
  };
  const one = async (text: string, hop: boolean, depth: number): Promise<ResolvedTarget> => {
    if (depth > MAX_HOPS) throw usageError('bad-ssh-config', `the ProxyJump chain to ${input} is longer than ${MAX_HOPS} hops`, 'check the ssh config for a ProxyJump loop');
    const explicit = explicitParts(text);
    const t = hop ? parseTarget(text, { defaultUser: account.username || 'root' }) : target;
    const cfg = await g(t.host, explicit, t);
    if (!cfg) return Object.freeze({ ...t });
    const base = buildResolvedTarget({ target: t, explicit, g: cfg, home: ports.env.HOME, localUser: account.username, env: ports.env, hop });
    const [first, ...rest] = splitProxyJump(cfg.proxyJump);
    if (first === undefined) return freezeWith(base, configFile);
    // ssh -J a,b runs `ssh -J a -W … b`: a's own ProxyJump applies, b's is replaced.
    const a = await one(first, true, depth + 1);
    const later = [];
    for (const h of rest) later.push(withoutJumps(await one(h, true, depth + 1)));
    return freezeWith({ ...base, jumps: Object.freeze([...(a.jumps ?? []), withoutJumps(a), ...later]) }, configFile);
  };
  return one(input, false, 0);
}

function withoutJumps(t: ResolvedTarget): ResolvedTarget {
  const { jumps: _j, ...rest } = t;
  return Object.freeze(rest);
}

function freezeWith(t: ResolvedTarget, configFile: string | undefined): ResolvedTarget {
  return Object.freeze({ ...t, ...(configFile && configFile !== '/dev/null' ? { sshConfig: configFile } : {}) });
}

/** The route for messages: `root@10.0.0.5 via admin@bastion`. Pure. */
export function describeRoute(t: ResolvedTarget, format: (t: SshTarget) => string): string {
  const via = t.jumps?.length ? ` via ${t.jumps.map(format).join(', ')}` : '';
  return `${format(t)}${via}`;
}

/**
 * The target as the manifest and later runs name it: the alias the config knows (so status and
 * rebuild find its route again), with the resolved user and port written out (an alias with
 * Port 2222 installs a host whose sshd listens on 2222). Pure.
 */
export function formatResolvedTarget(t: SshTarget): string {
  const alias = (t as ResolvedTarget).alias;
  return formatTarget(alias ? { ...t, host: alias } : t);
}

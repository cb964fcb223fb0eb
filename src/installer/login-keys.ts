/**
 * Who can log into the installed host. After the wipe a VPS is reachable only over SSH, so the
 * host must carry an authorized key the operator holds:
 *
 * - the keys come from the answers (`--login-key`, `loginKeys`: key lines, .pub files, or secret store
 *   references such as `op://vault/item/public key`), else the public half of `-i`
 *   (FILE.pub), else the ssh-agent's keys (`ssh-add -L`);
 * - a new host's default.nix lists them under users.users.root.openssh.authorizedKeys.keys;
 * - preflight evaluates the host's users and refuses to install a host with no authorized key at
 *   all (unless `--allow-no-login`), and warns when the operator's key is not among them.
 *
 * Parsing and the comparison are pure; reading files and the agent go through the injected ports.
 */
import { createHash } from 'node:crypto';
import { usageError } from '../errors.js';

/** Key types sshd accepts in authorized_keys (OpenSSH 9), security keys included. */
const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export interface LoginKey {
  /** "type base64 [comment]" as it goes into authorizedKeys (comment limited to safe characters). */
  line: string;
  type: string;
  fingerprint: string;
}

/** One public key line → LoginKey, or undefined when it is not one. Pure. */
export function parseLoginKeyLine(text: string): LoginKey | undefined {
  const [type, b64, ...rest] = text.trim().split(/\s+/);
  if (!type || !b64 || !KEY_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const blob = Buffer.from(b64, 'base64');
  // The blob starts with the key type as an SSH string: a pasted key of one type labelled as another is refused.
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (len !== type.length || blob.subarray(4, 4 + len).toString('latin1') !== type) return undefined;
  const comment = rest.join(' ').replace(/[^A-Za-z0-9@._+:=, -]/g, '').slice(0, 100).trim();
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { line: [type, b64, ...(comment ? [comment] : [])].join(' '), type, fingerprint };
}

/** Every key line of an authorized_keys-style text (a .pub file, `ssh-add -L` output). Pure. */
export function parseLoginKeyLines(text: string): LoginKey[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map(parseLoginKeyLine).filter((k): k is LoginKey => k !== undefined);
}

export interface LoginKeyPorts {
  readFile(path: string): Promise<string | undefined>;
  /**
   * The public key text a secret store reference names (issue 21: `op://vault/item/public key`,
   * `local:secrets/bootstrap/NAME.pub`), through the secret store port; absent where no store is known.
   */
  readRef?(reference: string): Promise<string>;
  /** `ssh-add -L` output, or undefined without an agent. */
  agentKeys(): Promise<string | undefined>;
}

export type LoginKeySource = 'answers' | 'identity' | 'agent' | 'none';

export interface ResolvedLoginKeys {
  keys: LoginKey[];
  source: LoginKeySource;
  /** Where they came from, for the plan: "-i ~/.ssh/id_ed25519.pub", "ssh-agent", … */
  from?: string;
}

/**
 * The login keys of this run. Each given entry is a key line or a path to a .pub file.
 * @throws usageError 'bad-login-key' for an entry that is neither
 */
export async function resolveLoginKeys(o: { given?: readonly string[]; identityFile?: string }, ports: LoginKeyPorts): Promise<ResolvedLoginKeys> {
  if (o.given?.length) {
    const keys: LoginKey[] = [];
    for (const entry of o.given) {
      const direct = parseLoginKeyLine(entry);
      if (direct) {
        keys.push(direct);
        continue;
      }
      if (isSecretRef(entry)) {
        if (!ports.readRef) throw usageError('bad-login-key', 'a --login-key secret store reference needs the flake\'s secret store', 'run it in the flake (--flake DIR), or give the key line or a .pub file');
        const found = parseLoginKeyLines(await ports.readRef(entry));
        // The reference may name a private key by mistake: its text is never echoed.
        if (!found.length) throw usageError('bad-login-key', `${entry.slice(0, 120)} holds no OpenSSH public key`, 'reference the public key (op://VAULT/ITEM/public key, local:DIR/NAME.pub), never a private key');
        keys.push(...found);
        continue;
      }
      const text = /^[~./]/.test(entry) ? await ports.readFile(entry) : undefined;
      const found = text === undefined ? [] : parseLoginKeyLines(text);
      if (!found.length) {
        const what = text === undefined ? (/^[~./]/.test(entry) ? `${JSON.stringify(entry)} cannot be read` : 'a login key is not an OpenSSH public key line') : `${JSON.stringify(entry)} holds no public key`;
        throw usageError('bad-login-key', what, 'give a public key ("ssh-ed25519 AAAA… you@laptop") or the path of a .pub file; never a private key');
      }
      keys.push(...found);
    }
    return { keys: dedupe(keys), source: 'answers', from: 'the answers' };
  }
  if (o.identityFile) {
    const pub = await ports.readFile(`${o.identityFile}.pub`);
    const keys = pub === undefined ? [] : parseLoginKeyLines(pub);
    if (keys.length) return { keys: dedupe(keys), source: 'identity', from: `${o.identityFile}.pub` };
  }
  const agent = await ports.agentKeys();
  const keys = agent === undefined ? [] : parseLoginKeyLines(agent);
  if (keys.length) return { keys: dedupe(keys), source: 'agent', from: 'the ssh-agent' };
  return { keys: [], source: 'none' };
}

/** A secret store reference (1Password op://, the local vault's local:) rather than a key or a path. Pure. */
export function isSecretRef(entry: string): boolean {
  return entry.startsWith('op://') || entry.startsWith('local:');
}

function dedupe(keys: LoginKey[]): LoginKey[] {
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(k.fingerprint) && (seen.add(k.fingerprint), true));
}

/**
 * nix's --apply over `config`: who may log into the host's evaluated config and how (issue 18), as
 * JSON `{ users: { NAME: { keys: ["ssh-ed25519 …"], groups: ["wheel"] } }, permitRootLogin,
 * allowUsers, denyUsers, allowGroups, denyGroups, sudo, wheelNeedsPassword, nopasswd }`: every user
 * with an authorized key (keyFiles counted as a "keyFiles:N" entry), sshd's root and user policy,
 * and whether sudo (or sudo-rs) lets them become root without a password (wheel, or an extraRules
 * entry giving NOPASSWD for ALL). Evaluated inside the lock-out guard's one evaluation
 * (lockout.ts ACCESS_APPLY).
 */
export const LOGIN_APPLY =
  'c: let us = c.users.users; s = c.services.openssh.settings; su = c.security.sudo; rs = c.security.sudo-rs or { enable = false; wheelNeedsPassword = true; extraRules = [ ]; }; ' +
  'nopw = x: builtins.isAttrs x && (x.command or "") == "ALL" && builtins.elem "NOPASSWD" (x.options or [ ]); ' +
  'rules = (if su.enable then su.extraRules else [ ]) ++ (if rs.enable then rs.extraRules else [ ]); ' +
  'in { users = builtins.listToAttrs (builtins.concatMap (n: let k = us.${n}.openssh.authorizedKeys; ks = k.keys ++ (if k.keyFiles == [ ] then [ ] else [ "keyFiles:${toString (builtins.length k.keyFiles)}" ]); ' +
  'in if ks == [ ] then [ ] else [ { name = n; value = { keys = ks; groups = us.${n}.extraGroups ++ [ us.${n}.group ]; }; } ]) (builtins.attrNames us)); ' +
  'permitRootLogin = s.PermitRootLogin or "prohibit-password"; allowUsers = s.AllowUsers or null; denyUsers = s.DenyUsers or null; allowGroups = s.AllowGroups or null; denyGroups = s.DenyGroups or null; sudo = su.enable || rs.enable; ' +
  'wheelNeedsPassword = (su.enable -> su.wheelNeedsPassword) && (rs.enable -> rs.wheelNeedsPassword); ' +
  'nopasswd = builtins.concatMap (r: if builtins.any nopw (r.commands or [ ]) then map toString (r.users or [ ]) ++ map (g: "%${toString g}") (r.groups or [ ]) else [ ]) rules; }';

/** What the evaluated config says about logging in. */
export interface EvaluatedLogin {
  /** user → their authorized key entries (users without any are left out). */
  keys: Record<string, string[]>;
  /** user → their groups (extraGroups and the primary group). */
  groups: Record<string, string[]>;
  permitRootLogin: string;
  /** sshd's AllowUsers, null when unset (everybody). */
  allowUsers: string[] | null;
  /**
   * sshd's DenyUsers, AllowGroups, DenyGroups (services.openssh.settings.*, nullOr (listOf str) in
   * nixpkgs' sshd.nix), null when unset. Absent in output of an older LOGIN_APPLY: null.
   */
  denyUsers?: string[] | null;
  allowGroups?: string[] | null;
  denyGroups?: string[] | null;
  sudo: boolean;
  wheelNeedsPassword: boolean;
  /** Users and %groups an extraRules entry lets run ALL with NOPASSWD. */
  nopasswd: string[];
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** nix's JSON → EvaluatedLogin. Pure; undefined when it is not that shape. */
export function parseEvaluatedLogin(stdout: string): EvaluatedLogin | undefined {
  try {
    const v = JSON.parse(stdout) as Record<string, unknown>;
    if (!v || typeof v !== 'object' || Array.isArray(v) || !v.users || typeof v.users !== 'object' || Array.isArray(v.users)) return undefined;
    const keys = Object.create(null) as Record<string, string[]>;
    const groups = Object.create(null) as Record<string, string[]>;
    for (const [user, u] of Object.entries(v.users as Record<string, { keys?: unknown; groups?: unknown }>)) {
      if (!u || !strings(u.keys) || !strings(u.groups)) return undefined;
      keys[user] = u.keys;
      groups[user] = u.groups;
    }
    if (typeof v.permitRootLogin !== 'string' || typeof v.sudo !== 'boolean' || typeof v.wheelNeedsPassword !== 'boolean' || !strings(v.nopasswd)) return undefined;
    if (v.allowUsers !== null && !strings(v.allowUsers)) return undefined;
    const lists: Record<'denyUsers' | 'allowGroups' | 'denyGroups', string[] | null> = { denyUsers: null, allowGroups: null, denyGroups: null };
    for (const k of ['denyUsers', 'allowGroups', 'denyGroups'] as const) {
      const x = v[k];
      if (x === undefined || x === null) continue;
      if (!strings(x)) return undefined;
      lists[k] = x;
    }
    return { keys, groups, permitRootLogin: v.permitRootLogin, allowUsers: v.allowUsers, ...lists, sudo: v.sudo, wheelNeedsPassword: v.wheelNeedsPassword, nopasswd: v.nopasswd };
  } catch {
    return undefined;
  }
}

/**
 * How a user becomes root: is root, sudo without a password (what `sudo -n` and nixos-anywhere
 * need), sudo that asks for one, or not at all.
 */
export type RootPower = 'root' | 'nopasswd' | 'password' | 'none';

export type LoginCheck =
  /** The operator logs in as `user`; `rootKey`: root holds their key (the kexec installer copies root's keys). */
  | { kind: 'ok'; user: string; power?: RootPower; rootKey?: boolean }
  /** Users hold the operator's key, but sshd refuses them or they cannot become root. */
  | { kind: 'unusable'; users: Array<{ user: string; why: string }> }
  | { kind: 'others'; users: string[] }
  | { kind: 'nobody' };

/** The sshd_config(5) setting that keeps a user out. */
export type SshdGate = 'PermitRootLogin' | 'DenyUsers' | 'AllowUsers' | 'DenyGroups' | 'AllowGroups';

/**
 * Whether sshd admits `user` with a key, as sshd decides it (sshd_config(5), auth.c allowed_user):
 * DenyUsers, then AllowUsers, then DenyGroups, then AllowGroups (the user's primary and
 * supplementary groups), each a list of patterns with * and ?. A USER@HOST pattern limits the
 * client's address, which is not known here: in AllowUsers it counts as admitting the user (the
 * host part is the operator's to get right), in DenyUsers as not denying. Pure.
 */
export function sshdAdmission(e: Pick<EvaluatedLogin, 'permitRootLogin' | 'allowUsers' | 'denyUsers' | 'allowGroups' | 'denyGroups' | 'groups'>, user: string): { gate: SshdGate; why: string } | undefined {
  if (user === 'root' && !['yes', 'prohibit-password', 'without-password'].includes(e.permitRootLogin)) return { gate: 'PermitRootLogin', why: `PermitRootLogin = "${e.permitRootLogin}"` };
  const deny = (e.denyUsers ?? []).find((p) => !p.includes('@') && globMatch(p, user));
  if (deny !== undefined) return { gate: 'DenyUsers', why: `DenyUsers lists ${user} ("${deny}")` };
  if (e.allowUsers != null && !e.allowUsers.some((p) => globMatch(p.split('@')[0]!, user))) return { gate: 'AllowUsers', why: `AllowUsers does not list ${user}` };
  const groups = e.groups?.[user] ?? [];
  const denied = groups.find((g) => (e.denyGroups ?? []).some((p) => globMatch(p, g)));
  if (denied !== undefined) return { gate: 'DenyGroups', why: `DenyGroups lists ${user}'s group ${denied}` };
  if (e.allowGroups != null && !groups.some((g) => e.allowGroups!.some((p) => globMatch(p, g)))) return { gate: 'AllowGroups', why: `AllowGroups lists none of ${user}'s groups (${groups.join(', ') || 'none known'})` };
  return undefined;
}

/** Whether sshd lets `user` log in with a key, or why not. Pure. */
export function sshdRefuses(e: Pick<EvaluatedLogin, 'permitRootLogin' | 'allowUsers'> & Partial<Pick<EvaluatedLogin, 'denyUsers' | 'allowGroups' | 'denyGroups' | 'groups'>>, user: string): string | undefined {
  return sshdAdmission({ groups: {}, ...e }, user)?.why;
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(text);
}

/** How `user` becomes root on the evaluated host. Pure. */
export function rootPowerOf(e: Pick<EvaluatedLogin, 'groups' | 'sudo' | 'wheelNeedsPassword' | 'nopasswd'>, user: string): RootPower {
  if (user === 'root') return 'root';
  const groups = e.groups[user] ?? [];
  if (e.nopasswd.includes(user) || groups.some((g) => e.nopasswd.includes(`%${g}`))) return 'nopasswd';
  if (e.sudo && groups.includes('wheel')) return e.wheelNeedsPassword ? 'password' : 'nopasswd';
  return 'none';
}

const RANK: Record<RootPower, number> = { root: 0, nopasswd: 0, password: 1, none: 2 };

/**
 * Who the operator (holding `operator` keys) logs in as after the install: `preferred` (--login-user)
 * when it holds their key, else root, else the others by name; among those sshd admits, one that
 * becomes root without a password wins over one whose sudo asks, over one without sudo. Pure.
 */
export function checkLogin(e: EvaluatedLogin, operator: readonly LoginKey[], preferred?: string): LoginCheck {
  const mine = new Set(operator.map((k) => k.fingerprint));
  const users = Object.keys(e.keys).filter((u) => e.keys[u]!.length > 0);
  const holds = (u: string) => (e.keys[u] ?? []).some((line) => mine.has(parseLoginKeyLine(line)?.fingerprint ?? ''));
  const order = [...(preferred ? [preferred] : []), 'root', ...users.filter((u) => u !== 'root' && u !== preferred).sort()].filter((u, i, a) => a.indexOf(u) === i && holds(u));
  if (!order.length) return users.length ? { kind: 'others', users } : { kind: 'nobody' };
  const rootKey = holds('root');
  const admitted = order.filter((u) => sshdRefuses(e, u) === undefined);
  const best = [...admitted].sort((a, b) => RANK[rootPowerOf(e, a)] - RANK[rootPowerOf(e, b)])[0];
  // --login-user is taken when sshd admits it and it can become root at all.
  const pick = preferred && admitted.includes(preferred) && rootPowerOf(e, preferred) !== 'none' ? preferred : best;
  if (pick === undefined || rootPowerOf(e, pick) === 'none') {
    return { kind: 'unusable', users: order.map((u) => ({ user: u, why: sshdRefuses(e, u) ?? `${u} cannot become root (not in wheel, no sudo rule)` })) };
  }
  const power = rootPowerOf(e, pick);
  return pick === 'root' ? { kind: 'ok', user: 'root' } : { kind: 'ok', user: pick, power, rootKey };
}

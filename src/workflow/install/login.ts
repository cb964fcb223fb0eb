/**
 * The login keys of an install run: resolved once (answers, else the -i key's .pub, else the
 * ssh-agent) before anything is touched, asked for in the wizard, checked in preflight against
 * the evaluated host config.
 */
import { hostDir } from '../../config/host-dir.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Task } from '../../ports/output.js';
import type { AppContext } from '../../context.js';
import { failure, usageError } from '../../errors.js';
import { checkLogin, isSecretRef, rootPowerOf, sshdAdmission, type EvaluatedLogin, type LoginCheck, parseLoginKeyLine, parseLoginKeyLines, resolveLoginKeys, type LoginKeyPorts, type ResolvedLoginKeys } from '../../installer/login-keys.js';
import type { SecretStore } from '../../secrets/store.js';
import { recordLoginUser } from './login-record.js';
import type { InstallAnswers } from './answers.js';
import type { InstallCtx } from './context.js';

/** Opens the flake's secret store on first need (a --login-key reference). */
export type StoreOpener = () => Promise<SecretStore>;

/**
 * The key text of a --login-key reference: the referenced value when it is public key lines, else
 * the public half the store keeps with it (an SSH Key item, a vault NAME.pub). Never a private key.
 */
export async function readLoginKeyRef(store: SecretStore, reference: string): Promise<string> {
  if (!store.readRef) throw usageError('bad-login-key', `--login-key ${reference.slice(0, 120)}: the ${store.kind} secret store cannot read references`, 'give the key line or a .pub file');
  const got = await store.readRef(reference, '--login-key');
  return parseLoginKeyLines(got.value).length ? got.value : (got.publicKey ?? '');
}

export function buildLoginKeyPorts(app: Pick<AppContext, 'cwd' | 'env' | 'run' | 'signal'>, openStore?: StoreOpener): LoginKeyPorts {
  const expand = (p: string) => (p.startsWith('~/') ? resolve(app.env.HOME ?? homedir(), p.slice(2)) : resolve(app.cwd, p));
  return {
    readFile: (p) => readFile(expand(p), 'utf8').catch(() => undefined),
    ...(openStore ? { readRef: async (ref: string) => readLoginKeyRef(await openStore(), ref) } : {}),
    agentKeys: async () => {
      if (!app.env.SSH_AUTH_SOCK) return undefined;
      try {
        const r = await app.run(['ssh-add', '-L'], { check: false, signal: app.signal, timeoutMs: 5_000, env: { SSH_AUTH_SOCK: app.env.SSH_AUTH_SOCK } });
        return r.code === 0 ? r.stdout : undefined;
      } catch {
        return undefined; // no ssh-add: no agent keys
      }
    },
  };
}

export function resolveRunLoginKeys(app: Pick<AppContext, 'cwd' | 'env' | 'run' | 'signal'>, answers: InstallAnswers, identityFile: string | undefined, openStore?: StoreOpener): Promise<ResolvedLoginKeys> {
  return resolveLoginKeys({ ...(answers.loginKeys ? { given: answers.loginKeys } : {}), ...(identityFile ? { identityFile } : {}) }, buildLoginKeyPorts(app, openStore));
}

/** The wizard's question, asked only on a terminal when no key was given: the default is shown. */
export async function askLoginKeys(app: Pick<AppContext, 'prompts' | 'cwd' | 'env' | 'run' | 'signal'>, a: InstallAnswers, identityFile: string | undefined, o: { again?: boolean; openStore?: StoreOpener } = {}): Promise<InstallAnswers> {
  if (!app.prompts.interactive) return a;
  // Asked again (the wizard's review, or going back): the earlier answer is the default.
  if (a.loginKeys?.length && !o.again) return a;
  const found = a.loginKeys?.length ? undefined : await resolveRunLoginKeys(app, a, identityFile, o.openStore);
  const suggestion = a.loginKeys?.[0] ?? (found?.source === 'identity' ? found.from : found?.keys[0]?.line);
  const ports = buildLoginKeyPorts(app, o.openStore);
  const answer = await app.prompts.input({
    message: 'Public key that may log in as root on the installed host (key line, .pub file or op://… / local:… reference):',
    flag: '--login-key',
    ...(suggestion ? { default: suggestion } : {}),
    validate: (v) => (parseLoginKeyLine(v) || /^[~./]/.test(v.trim()) || isSecretRef(v.trim()) ? true : 'give a public key ("ssh-ed25519 AAAA…"), the path of a .pub file, or a secret store reference (op://VAULT/ITEM/public key)'),
  });
  const given = answer.trim();
  // A path is read now, so a typo is asked again later rather than found after connecting.
  await resolveLoginKeys({ given: [given] }, ports);
  return { ...a, loginKeys: [given] };
}

/**
 * Preflight (preflight-access.ts): some user of the evaluated host must have an authorized key, or nobody can log in
 * after the wipe. Refused unless --allow-no-login; the operator's own key missing is a warning.
 * Issue 18: the login bootstrap uses afterwards must be one sshd admits (PermitRootLogin,
 * AllowUsers) and that can become root (root, or sudo); when it is not root, it is recorded as the
 * manifest's [login] user, so status, rebuild and recover connect as it, and returned for the
 * lock-out guard (lockout-guard.ts), which checks that user's key, sshd's port and the firewall.
 */
export async function runLoginCheck(c: Pick<InstallCtx, 'flakeDir' | 'host' | 'answers' | 'login' | 'loaded' | 'out' | 'builtPath'>, progress: Task, evaluated: EvaluatedLogin): Promise<string | undefined> {
  // Read from the lock-out guard's one evaluation (installer/lockout.ts ACCESS_APPLY's `login`).
  progress.update('checking who can log into the installed host');
  const r = checkLogin(evaluated, c.login.keys, c.answers.loginUser);
  await saveLoginCheck(buildLoginCheckPath(c.builtPath), r); // the closing hint names a login that works
  const file = `${hostDir(c.loaded.config, c.host)}/default.nix`;
  const asked = c.answers.loginUser;
  // A login kept out only by sshd's user or group lists is the lock-out guard's to refuse
  // (login-user-refused, naming the setting; --allow-lockout overrides it, journaled).
  if (asked && listGated(evaluated, asked) && (evaluated.keys[asked] ?? []).some((l) => c.login.keys.some((k) => k.fingerprint === parseLoginKeyLine(l)?.fingerprint))) return asked;
  if (asked && !(r.kind === 'ok' && r.user === asked)) {
    const why = r.kind === 'unusable' ? r.users.find((u) => u.user === asked)?.why : undefined;
    const what = `--login-user ${asked}: ${why ?? `${asked} does not hold your key (${c.login.keys.map((k) => k.fingerprint).join(', ') || 'none found'}) on ${c.host}`}`;
    if (c.answers.allowNoLogin) return void c.out.warn(`${what} (--allow-no-login)`);
    throw usageError(
      'bad-login-user',
      what,
      `add your key to users.users.${asked}.openssh.authorizedKeys.keys (and ${asked} to extraGroups = [ "wheel" ]) in ${file}, or pass another --login-user; nothing on the target was touched`,
    );
  }
  if (r.kind === 'nobody') {
    if (c.answers.allowNoLogin) return void c.out.warn(`no user of ${c.host} has an authorized SSH key: after the install it is reachable only on its console (--allow-no-login)`);
    throw failure(
      'no-login',
      `no user of ${c.host} has an authorized SSH key: after the wipe nobody could log in`,
      `pass --login-key ~/.ssh/id_ed25519.pub (or set users.users.root.openssh.authorizedKeys.keys in ${file}), or --allow-no-login; nothing on the target was touched`,
    );
  }
  const gated = r.kind === 'unusable' ? r.users.find((u) => listGated(evaluated, u.user)) : undefined;
  if (gated) return gated.user;
  if (r.kind === 'unusable') {
    const what = `no login bootstrap could use after the install: ${r.users.map((u) => `${u.user} (${u.why})`).join(', ')}`;
    if (c.answers.allowNoLogin) return void c.out.warn(`${what}; status, rebuild and recover will not reach ${c.host} (--allow-no-login)`);
    throw failure(
      'no-usable-login',
      `${what}: status, rebuild and recover could not reach ${c.host}`,
      `give an admin user your key and sudo (users.users.NAME = { extraGroups = [ "wheel" ]; openssh.authorizedKeys.keys = [ … ]; } in ${file}) and pass --login-user NAME, or let root log in with a key (PermitRootLogin = "prohibit-password"); or pass --allow-no-login; nothing on the target was touched`,
    );
  }
  if (r.kind === 'others') {
    c.out.warn(`your key${c.login.keys.length === 1 ? '' : 's'} (${c.login.keys.map((k) => k.fingerprint).join(', ') || 'none found'}) cannot log into ${c.host}; ${r.users.join(', ')} ha${r.users.length === 1 ? 's' : 've'} other keys`);
    return undefined;
  }
  await recordLoginUser(c, r.user === 'root' ? undefined : r.user);
  if (r.user === 'root') return r.user;
  progress.update(`bootstrap will log into ${c.host} as ${r.user}${r.power === 'nopasswd' ? ' with sudo' : ''}`);
  if (r.power === 'password') {
    c.out.warn(`${r.user}'s sudo on ${c.host} asks for a password: the health report marks what needs root "not checked (needs root)", and rebuild and recover (nixos-anywhere) need sudo without one (security.sudo.wheelNeedsPassword = false, or a NOPASSWD rule for ${r.user})`);
  }
  if (!r.rootKey) {
    c.out.warn(`root of ${c.host} holds none of your keys: a rebuild boots the kexec installer, which takes root's authorized keys only (nixos-images), so nixos-anywhere could not log into it; add your key to users.users.root.openssh.authorizedKeys.keys (root still may not log in over SSH with PermitRootLogin = "no")`);
  }
  return r.user;
}

/** Kept out only by AllowUsers, DenyUsers, AllowGroups or DenyGroups: otherwise a login that becomes root. */
function listGated(e: EvaluatedLogin, user: string): boolean {
  const gate = sshdAdmission(e, user)?.gate;
  return gate !== undefined && gate !== 'PermitRootLogin' && rootPowerOf(e, user) !== 'none';
}

/** Where preflight keeps who can log in (beside built.json), for the summary of this or a resumed run. */
export function buildLoginCheckPath(builtPath: string): string {
  return join(builtPath, '..', 'login.json');
}

async function saveLoginCheck(path: string, r: LoginCheck): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(r) + '\n', { mode: 0o600 });
}

export async function loadLoginCheck(path: string): Promise<LoginCheck | undefined> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as LoginCheck;
    return r.kind === 'ok' || r.kind === 'others' || r.kind === 'nobody' ? r : undefined;
  } catch {
    return undefined;
  }
}

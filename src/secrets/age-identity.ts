/**
 * Where the admin's age identity comes from, for the local vault.
 *
 * BOOTSTRAP_AGE_IDENTITY is either the identity itself (a value starting with AGE-SECRET-KEY-1,
 * handy in CI secrets) or a path to an identity file in `age-keygen` format (comments allowed,
 * several keys allowed). Without it: `[secrets.local] identityFile` in bootstrap.toml, then
 * ~/.config/sops/age/keys.txt (the file sops itself reads). Only X25519 identities are supported:
 * the in-process age implementation handles no plugins and no SSH identities.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { recipientOfIdentity } from '../keys/age-key.js';
import { registerSecret } from '../redact.js';

export interface AdminIdentity {
  identities: string[];
  recipients: string[];
  /** Where it came from, for messages: a path or "$BOOTSTRAP_AGE_IDENTITY". */
  source: string;
}

export const CREATE_IDENTITY_HINT =
  'create one with `age-keygen -o ~/.config/sops/age/keys.txt` (or point BOOTSTRAP_AGE_IDENTITY at a key file), ' +
  'then put its public key in bootstrap.toml: [secrets.local] recipients = ["age1…"]';

/** Pure: the identities in an age-keygen file. */
export function parseIdentityFile(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Pure: which identity source applies, in order of precedence. */
export function planIdentitySource(env: NodeJS.ProcessEnv, flakeDir: string, identityFile: string | undefined): { kind: 'inline' | 'file'; value: string; explicit: boolean } {
  const fromEnv = env.BOOTSTRAP_AGE_IDENTITY?.trim();
  if (fromEnv) {
    if (fromEnv.startsWith('AGE-SECRET-KEY-')) return { kind: 'inline', value: fromEnv, explicit: true };
    return { kind: 'file', value: resolve(flakeDir, fromEnv), explicit: true };
  }
  if (identityFile) return { kind: 'file', value: isAbsolute(identityFile) ? identityFile : resolve(flakeDir, identityFile), explicit: true };
  const home = env.HOME || homedir();
  const xdg = env.XDG_CONFIG_HOME || join(home, '.config');
  return { kind: 'file', value: join(xdg, 'sops', 'age', 'keys.txt'), explicit: false };
}

/**
 * Load the admin identity, or undefined when none is configured and the default file is absent.
 * A configured source that is missing or malformed is a usage error (it names the path, never
 * the content).
 */
export async function loadAdminIdentity(env: NodeJS.ProcessEnv, flakeDir: string, identityFile?: string): Promise<AdminIdentity | undefined> {
  const src = planIdentitySource(env, flakeDir, identityFile);
  let text: string;
  let source: string;
  if (src.kind === 'inline') {
    text = src.value;
    source = '$BOOTSTRAP_AGE_IDENTITY';
  } else {
    source = src.value;
    try {
      text = await readFile(src.value, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !src.explicit) return undefined;
      throw usageError('no-age-identity', `cannot read the age identity ${src.value}: ${code ?? 'error'}`, CREATE_IDENTITY_HINT, e);
    }
  }
  registerSecret(text);
  const identities = parseIdentityFile(text);
  if (identities.length === 0) throw usageError('no-age-identity', `${source} holds no age identity`, CREATE_IDENTITY_HINT);
  for (const id of identities) registerSecret(id);
  const recipients: string[] = [];
  for (const id of identities) recipients.push(await recipientOfIdentity(id, source));
  return { identities, recipients, source };
}

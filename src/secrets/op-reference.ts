/**
 * 1Password secret references (`op://vault/item/[section/]field[?param]`): the one parser and
 * validator, used by the manifest schema, the config and the onepassword store. Pure.
 *
 * The rules are 1Password's (https://developer.1password.com/docs/cli/secret-reference-syntax)
 * as the SDK's own `Secrets.validateSecretReference` (@1password/sdk 0.5) applies them, checked
 * against it in test/secrets/onepassword-reference.test.ts:
 *   - the scheme is `op://`, lowercase;
 *   - 3 or 4 parts split on `/`: vault, item, optional section, field (a file name works as field);
 *   - names hold ASCII letters, digits, `-`, `_`, `.` and spaces ("web1 ssh host key"); a name with
 *     any other character (`/`, `@`, `é`, …) is written as the vault's / item's / field's id;
 *   - matching is case-insensitive on the 1Password side;
 *   - at most one query parameter: `attribute=otp` / `attribute=totp`, or `ssh-format=openssh`
 *     (the CLI also knows attribute=type|value|id|purpose; the SDK refuses them);
 *   - a reference is one line: control characters (newline, tab, NUL, …) are refused.
 * Stricter than the SDK in one place: an empty or all-space name (`op://vault//field`) is refused,
 * since it names nothing.
 */
import { usageError } from '../errors.js';

export interface OpReference {
  vault: string;
  item: string;
  section?: string;
  field: string;
  attribute?: 'otp' | 'totp';
  sshFormat?: 'openssh';
}

export type OpReferenceParse = { ok: true; ref: OpReference } | { ok: false; reason: string };

export const OP_SCHEME = 'op://';
const NAME = /^[A-Za-z0-9 ._-]+$/;
// C0 controls, DEL and the C1 controls, plus the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const PARTS = ['vault', 'item', 'section', 'field'] as const;

/** Pure: whether a vault, item, section or field name can appear in a reference as is. */
export function isOpName(name: string): boolean {
  return NAME.test(name) && name.trim() !== '';
}

/** Pure: parse a reference, or say in a few words why it is not one. */
export function parseOpReference(text: string): OpReferenceParse {
  if (!text.startsWith(OP_SCHEME)) return { ok: false, reason: 'it must start with op://' };
  if (CONTROL.test(text)) return { ok: false, reason: 'it must be one line, without control characters (newline, tab, …)' };
  const body = text.slice(OP_SCHEME.length);
  const q = body.indexOf('?');
  const path = q < 0 ? body : body.slice(0, q);
  const parts = path.split('/');
  if (parts.length < 3 || parts.length > 4) return { ok: false, reason: `it must have the form op://vault/item/[section/]field (found ${parts.length} part${parts.length === 1 ? '' : 's'})` };
  const names = parts.length === 3 ? { vault: parts[0]!, item: parts[1]!, field: parts[2]! } : { vault: parts[0]!, item: parts[1]!, section: parts[2]!, field: parts[3]! };
  for (const key of PARTS) {
    const name = (names as Record<string, string | undefined>)[key];
    if (name === undefined) continue;
    if (name.trim() === '') return { ok: false, reason: `the ${key} name is empty` };
    if (!NAME.test(name)) {
      return { ok: false, reason: `the ${key} name "${name}" has a character references cannot hold (only letters, digits, spaces, - _ .); write the ${key}'s id instead` };
    }
  }
  const ref: OpReference = { ...names };
  if (q >= 0) {
    const query = body.slice(q + 1);
    const m = /^(attribute|ssh-format)=([^&=?]*)$/.exec(query);
    if (!m) return { ok: false, reason: `the query "?${query}" is not one of ?attribute=otp, ?attribute=totp, ?ssh-format=openssh` };
    if (m[1] === 'attribute' && (m[2] === 'otp' || m[2] === 'totp')) ref.attribute = m[2];
    else if (m[1] === 'ssh-format' && m[2] === 'openssh') ref.sshFormat = 'openssh';
    else return { ok: false, reason: `the query "?${query}" is not one of ?attribute=otp, ?attribute=totp, ?ssh-format=openssh` };
  }
  return { ok: true, ref };
}

/** Pure: the reference text. @throws Error when a name cannot appear in a reference (a bug in the caller). */
export function buildOpReference(ref: OpReference): string {
  for (const name of [ref.vault, ref.item, ref.section, ref.field]) {
    if (name !== undefined && !isOpName(name)) throw new Error(`cannot build a 1Password reference with the name ${JSON.stringify(name)}`);
  }
  const path = [ref.vault, ref.item, ...(ref.section !== undefined ? [ref.section] : []), ref.field].join('/');
  const query = ref.attribute ? `?attribute=${ref.attribute}` : ref.sshFormat ? `?ssh-format=${ref.sshFormat}` : '';
  const text = `${OP_SCHEME}${path}${query}`;
  const parsed = parseOpReference(text);
  if (!parsed.ok) throw new Error(`cannot build a 1Password reference from ${JSON.stringify(text)}: ${parsed.reason}`);
  return text;
}

/** Pure: a reference as it may be shown in a message: one line, at most 120 characters. */
export function showOpReference(text: string): string {
  const one = JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}…` : text);
  return one;
}

/**
 * Parse or refuse with a one-line usage error naming the reference and `where` it came from.
 * @throws usageError 'bad-op-reference'
 */
export function checkOpReference(text: string, where: string): OpReference {
  const parsed = parseOpReference(text);
  if (parsed.ok) return parsed.ref;
  throw usageError('bad-op-reference', `${where}: ${showOpReference(text)} is not a 1Password secret reference: ${parsed.reason}`, 'write it as op://VAULT/ITEM/[SECTION/]FIELD, e.g. "op://Infra/web1 ssh host key/private key"; copy it from the 1Password app (Copy Secret Reference)');
}

/**
 * `bootstrap secrets set NAME` and `bootstrap secrets list` (issue 11): put the values the tool
 * reads (S3 keys, a restic password to recover with) into the configured secret store by name,
 * instead of users hand-encrypting files to a path they must guess. The value never comes from
 * argv and is never printed.
 */
import { resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import type { ParsedArgs } from '../args.js';
import { readAllInput } from '../../secrets/secret-input.js';
import type { Config } from '../../config/schema.js';
import { loadConfig } from '../../config/load.js';
import { quote, usageError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { buildSecretNames } from '../../storage/s3-settings.js';
import { openSecretStore } from '../../secrets/open-store.js';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Names `bootstrap keys` owns: they need validation and recipient registration, not a raw value. */
const KEY_NAMES = [/^hosts\/[^/]+\/ssh_host_ed25519_key$/, /^hosts\/[^/]+\/age_key$/, /^shared\/admin-age$/];

/**
 * A secret name from the command line: slash-separated segments of letters, digits, `.`, `_`,
 * `-` (not starting with `.` or `-`), no `..`, at most 200 characters; not a host key name.
 * @throws usageError 'bad-secret-name' | 'key-name'
 */
export function checkUserSecretName(name: string): void {
  const hint = 'use slash-separated words, e.g. storage/b2/secret-access-key or hosts/web1/restic-password';
  if (name.length > 200 || name.includes('..') || !name.split('/').every((s) => SEGMENT.test(s))) {
    throw usageError('bad-secret-name', `secret name ${quote(name)} is not a store name`, hint);
  }
  if (KEY_NAMES.some((r) => r.test(name))) {
    throw usageError('key-name', `${name} is a host key; \`bootstrap keys import\` stores it (it checks the key and registers its recipient)`, 'e.g. `bootstrap keys import web1 --ssh-key FILE`, `--age-key FILE` or `--shared-admin-age FILE`');
  }
}

/**
 * The value as stored: the input minus ONE trailing newline ("\n" or "\r\n"), so `echo`, a file
 * and a pasted line give the same value; every other byte is kept. Empty is a usage error.
 */
export function buildSecretValue(input: string): string {
  const value = input.replace(/\r?\n$/, '');
  if (value.trim() === '') throw usageError('empty-secret', 'the secret value is empty', 'pipe the value in (`… | bootstrap secrets set NAME`) or type it at the prompt');
  return value;
}

/** Which configured reader uses a name, for the confirmation line ("read by [storage.b2]"). Pure. */
export function describeSecretReader(config: Pick<Config, 'storage'>, name: string): string | undefined {
  for (const [storage, entry] of Object.entries(config.storage)) {
    if (entry.provider === 'local') continue;
    const names = buildSecretNames(storage, entry);
    if (name === names.accessKeyId) return `the access key id of [storage.${storage}]`;
    if (name === names.secretAccessKey) return `the secret access key of [storage.${storage}]`;
  }
  if (/^hosts\/[^/]+\/restic-password$/.test(name)) return 'the restic repository password of the host (backup setup, recover)';
  return undefined;
}

/** Storage credential names the config reads, for the hint when a storage-looking name matches none. */
function storageNames(config: Pick<Config, 'storage'>): string[] {
  return Object.entries(config.storage)
    .filter(([, e]) => e.provider !== 'local')
    .flatMap(([n, e]) => Object.values(buildSecretNames(n, e)));
}

async function readValue(ctx: AppContext, name: string): Promise<string> {
  if (process.stdin.isTTY !== true) return readAllInput(process.stdin, `the value of ${name}`);
  if (!ctx.prompts.password) throw usageError('missing-answer', `no value for ${name} and no terminal to ask on`, `pipe the value in: \`… | bootstrap secrets set ${name}\``);
  return ctx.prompts.password({ message: `value of ${name} (hidden)`, flag: `the value on stdin (\`… | bootstrap secrets set ${name}\`)` });
}

export async function runSetCommand(ctx: AppContext, args: ParsedArgs): Promise<number> {
  const name = args.positional(0, 'NAME');
  if (args.positionals.length > 1) {
    for (const v of args.positionals.slice(1)) registerSecret(v);
    throw usageError('secret-in-argv', 'secrets set takes the value on stdin or at a hidden prompt, never as an argument', `arguments land in shell history and \`ps\`; run \`bootstrap secrets set ${name}\` and type it, or pipe it in`);
  }
  checkUserSecretName(name);
  const loaded = await loadConfig(resolve(ctx.cwd, args.string('flake') ?? '.'));
  const store = await openSecretStore(loaded, ctx);
  const raw = await readValue(ctx, name);
  registerSecret(raw);
  const value = buildSecretValue(raw);
  registerSecret(value);

  const existing = await store.get(name);
  let action: 'stored' | 'replaced' | 'unchanged' = 'stored';
  if (existing === value) action = 'unchanged';
  else if (existing !== undefined && !args.bool('force')) {
    throw usageError('secret-exists', `${name} already holds a different value in the ${store.kind} secret store; --force replaces it`, 'replacing a restic password or a token cuts off what used the old one');
  } else if (existing !== undefined) action = 'replaced';
  const ref = action === 'unchanged' ? store.refOf(name) : await store.put(name, value, { kind: 'password' });

  const reader = describeSecretReader(loaded.config, name);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (args.bool('json')) {
    ctx.out.json({ name, ref, action, bytes, ...(reader ? { readBy: reader } : {}) });
    return 0;
  }
  ctx.out.success(`${action === 'unchanged' ? 'unchanged' : action} ${ref} (${bytes} bytes)${reader ? `: ${reader}` : ''}`);
  if (!reader && name.startsWith('storage/')) {
    const known = storageNames(loaded.config);
    ctx.out.warn(`no [storage.*] entry in bootstrap.toml reads ${name}${known.length ? `; they read: ${known.join(', ')}` : ''}`);
  }
  return 0;
}

export async function runListCommand(ctx: AppContext, args: ParsedArgs): Promise<number> {
  const loaded = await loadConfig(resolve(ctx.cwd, args.string('flake') ?? '.'));
  const store = await openSecretStore(loaded, ctx);
  if (!store.list) throw usageError('list-unsupported', `the ${store.kind} secret store cannot list names here`, 'look in the 1Password vault from [secrets.onepassword] vault');
  const names = await store.list();
  if (args.bool('json')) ctx.out.json({ store: store.kind, names });
  else if (names.length) ctx.out.data(names.join('\n'));
  else ctx.out.info('the secret store holds no secrets yet');
  return 0;
}

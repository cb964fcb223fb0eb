/**
 * Will the host decrypt its secrets on first boot? Checked from the files themselves, so a resumed
 * run sees what is still missing whatever an earlier run did:
 *
 * - sops: every sops file under a creation rule that lists the host's age recipient must list that
 *   recipient in its own `sops` metadata (what `sops updatekeys` adds).
 * - agenix: every secret in secrets.nix whose publicKeys include the host's SSH key must carry an
 *   `ssh-ed25519` stanza for it: the stanza's tag is the first 4 bytes of SHA-256 of the key's wire
 *   form (age's agessh plugin format), so the recipient is visible without decrypting.
 *
 * Pure parsers plus one walker; the agenix rules are evaluated by nix-instantiate.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import type { AppContext } from '../context.js';
import { matchRule } from './sops-yaml.js';
import { DEFAULT_STATE_DIR } from '../config/state-paths.js';
import type { SecretsMode } from '../config/sections/secrets-mode.js';

const SKIP_DIRS = new Set(['.git', 'node_modules', '.direnv', 'result', DEFAULT_STATE_DIR]);

/** The age recipients a sops file is encrypted for (YAML, JSON, dotenv/INI metadata). Pure. */
export function parseSopsFileRecipients(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/recipient["']?\s*[:=]\s*["']?(age1[02-9ac-hj-np-z]{58})/g)) out.add(m[1]!);
  return [...out];
}

/** Is this text a sops-encrypted file? Pure. */
export function isSopsFile(text: string): boolean {
  return /^sops:|"sops":|^sops_version=|^sops_mac=/m.test(text);
}

/** path_regex of each creation rule whose keys (key_groups or a rule-level age list) include `recipient`. Pure. */
export function rulesNaming(sopsYaml: string, recipient: string): string[] {
  let js: unknown;
  try {
    js = parseDocument(sopsYaml).toJS({ maxAliasCount: -1 });
  } catch {
    return [];
  }
  const rules = (js as { creation_rules?: unknown })?.creation_rules;
  if (!Array.isArray(rules)) return [];
  const ages = (v: unknown): string[] => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : Array.isArray(v) ? v.flatMap(ages) : []);
  return rules.flatMap((r: unknown) => {
    if (!r || typeof r !== 'object') return [];
    const rule = r as { path_regex?: unknown; age?: unknown; key_groups?: unknown };
    const keys = [...ages(rule.age), ...(Array.isArray(rule.key_groups) ? rule.key_groups.flatMap((g: unknown) => ages((g as { age?: unknown })?.age)) : [])];
    return keys.includes(recipient) ? [typeof rule.path_regex === 'string' ? rule.path_regex : ''] : [];
  });
}

/** Flake-relative sops files under `rules` (first matching rule wins, as in sops) not encrypted for `recipient`. */
export async function findSopsFilesMissing(flakeDir: string, sopsYaml: string, recipient: string): Promise<string[]> {
  const naming = rulesNaming(sopsYaml, recipient);
  if (!naming.length) return [];
  const all = (parseDocument(sopsYaml).toJS({ maxAliasCount: -1 }) as { creation_rules?: { path_regex?: string }[] })?.creation_rules ?? [];
  const allRegexes = all.map((r) => (typeof r?.path_regex === 'string' ? r.path_regex : ''));
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(join(dir, e.name), depth + 1);
        continue;
      }
      if (!e.isFile()) continue;
      const rel = relative(flakeDir, join(dir, e.name)).split('\\').join('/');
      const rule = matchRule(allRegexes, rel);
      if (rule === undefined || !naming.includes(rule)) continue;
      const text = await readFile(join(dir, e.name), 'utf8').catch(() => '');
      if (isSopsFile(text) && !parseSopsFileRecipients(text).includes(recipient)) out.push(rel);
    }
  };
  await walk(flakeDir, 0);
  return out.sort();
}

/** age's ssh-ed25519 stanza tag for an OpenSSH public key line: base64 (no padding) of SHA-256(wire)[0..4]. Pure. */
export function buildSshStanzaTag(publicKeyLine: string): string {
  const wire = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
  return createHash('sha256').update(wire).digest().subarray(0, 4).toString('base64').replace(/=+$/, '');
}

/** The ssh-ed25519 stanza tags in an age file's header (binary or armored). Pure. */
export function parseAgeSshTags(data: Buffer): string[] {
  let text = data.toString('latin1');
  const armored = /-----BEGIN AGE ENCRYPTED FILE-----([\s\S]*?)-----END AGE ENCRYPTED FILE-----/.exec(text);
  if (armored) text = Buffer.from(armored[1]!.replace(/\s+/g, ''), 'base64').toString('latin1');
  if (!text.startsWith('age-encryption.org/v1\n')) return [];
  const header = text.slice(0, text.indexOf('\n---') >= 0 ? text.indexOf('\n---') : text.length);
  return [...header.matchAll(/^-> ssh-ed25519 (\S+) /gm)].map((m) => m[1]!);
}

/**
 * agenix: the secrets (paths relative to the flake) whose publicKeys include `sshPublicKey` but
 * whose .age file is missing or not encrypted for it. undefined when secrets.nix cannot be
 * evaluated here (no Nix): the caller says so instead of guessing.
 */
export async function findAgenixSecretsMissing(
  ctx: Pick<AppContext, 'run' | 'signal'>,
  flakeDir: string,
  agenixFile: string,
  sshPublicKey: string,
): Promise<string[] | undefined> {
  const path = join(flakeDir, agenixFile);
  let rules: Record<string, { publicKeys?: unknown }>;
  try {
    const r = await ctx.run(['nix-instantiate', '--eval', '--strict', '--json', path], { check: false, signal: ctx.signal, timeoutMs: 60_000 });
    if (r.code !== 0) return undefined;
    rules = JSON.parse(r.stdout) as Record<string, { publicKeys?: unknown }>;
  } catch {
    return undefined;
  }
  const want = sshPublicKey.trim().split(/\s+/).slice(0, 2).join(' ');
  const tag = buildSshStanzaTag(want);
  const out: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const keys = Array.isArray(rule?.publicKeys) ? rule.publicKeys.filter((k): k is string => typeof k === 'string') : [];
    if (!keys.some((k) => k.trim().split(/\s+/).slice(0, 2).join(' ') === want)) continue;
    const file = join(dirname(path), name);
    const data = await readFile(file).catch(() => undefined);
    if (!data) continue; // not written yet: nothing to re-encrypt (its build would fail on its own)
    if (!parseAgeSshTags(data).includes(tag)) out.push(relative(flakeDir, file).split('\\').join('/'));
  }
  return out.sort();
}

export interface DecryptCheck {
  /** Secret files the host should read but is not a recipient of. */
  missing: string[];
  /** The exact commands that fix it, one line each. */
  commands: string[];
  /** False when the check could not run (agenix without Nix here). */
  checked: boolean;
}

/** The host's secrets, per [sops] mode: which would not decrypt on first boot, and the fix. */
export async function checkHostDecrypts(
  ctx: Pick<AppContext, 'run' | 'signal'>,
  o: { flakeDir: string; mode: SecretsMode; sopsFile: string; agenixFile: string; recipient: string; sshPublicKey: string },
): Promise<DecryptCheck> {
  if (o.mode === 'sops') {
    const yaml = await readFile(join(o.flakeDir, o.sopsFile), 'utf8').catch(() => undefined);
    if (yaml === undefined) return { missing: [], commands: [], checked: true };
    const missing = await findSopsFilesMissing(o.flakeDir, yaml, o.recipient);
    return { missing, commands: missing.map((f) => `sops updatekeys -y ${shellWord(f)}`), checked: true };
  }
  if (o.mode === 'agenix') {
    const missing = await findAgenixSecretsMissing(ctx, o.flakeDir, o.agenixFile, o.sshPublicKey);
    if (missing === undefined) return { missing: [], commands: [], checked: false };
    const dir = dirname(o.agenixFile);
    return { missing, commands: missing.length ? [`${dir === '.' ? '' : `cd ${shellWord(dir)} && `}agenix --rekey`] : [], checked: true };
  }
  return { missing: [], commands: [], checked: true };
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

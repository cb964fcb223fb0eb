/**
 * Add a host's age recipient to .sops.yaml: an anchor under `keys:` (`- &host_web1 age1…`) and an
 * alias (`- *host_web1`) in every creation rule that covers the host's secrets. The yaml Document
 * API finds the nodes; the edits are splices into the original text at those nodes' ranges, so
 * every other byte (comments, anchors, quoting, indentation style, order) stays as it was.
 * Re-stringifying the document would re-indent `key_groups:\n- age:` and re-wrap long lines.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { usageError } from '../errors.js';
import { parseSopsYaml } from './sops-yaml-check.js';

export interface SopsYamlPlan {
  content: string;
  changed: boolean;
  /** path_regex of each creation rule the host was added to (or already in). */
  rules: string[];
  /** Things we could not do in place; printed for the user to do by hand. */
  notes: string[];
}

export interface SopsHostInput {
  host: string;
  recipient: string;
  /** Extra path_regex values (from [sops] rules) the host joins besides those naming it. */
  extraRules?: string[];
  /** Anchor name (default host_HOST); a second key of the same host needs its own. */
  anchor?: string;
  /** The host's folder in the flake (default hosts/HOST): where its own secrets file lives. */
  hostDir?: string;
}

interface Splice {
  at: number;
  remove?: number;
  insert: string;
}

export function anchorFor(host: string): string {
  return `host_${host.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A rule covers a host when its path_regex names the host as a word (secrets/web1/…, hosts/web1.yaml). */
export function ruleMentionsHost(pathRegex: string, host: string): boolean {
  const esc = host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_-])${esc}($|[^A-Za-z0-9_-])`).test(pathRegex);
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}
function lineEnd(text: string, pos: number): number {
  const n = text.indexOf('\n', pos);
  return n < 0 ? text.length : n + 1;
}

/** Insert `entry` as a new item after the last item of a block or flow sequence. */
function appendToSeq(text: string, seq: YAMLSeq, entry: string): Splice | undefined {
  const items = seq.items as Node[];
  if (seq.flow) {
    const close = text.lastIndexOf(']', seq.range![1]);
    if (close < 0) return undefined;
    return { at: close, insert: items.length ? `, ${entry}` : entry };
  }
  const last = items[items.length - 1];
  if (!last?.range) return undefined;
  const start = lineStart(text, last.range[0]);
  const prefix = /^(\s*-\s+)/.exec(text.slice(start, last.range[0]));
  if (!prefix) return undefined;
  // After the line the last item ends on (its trailing comment stays with it).
  const at = lineEnd(text, last.range[1]);
  const lead = at === text.length && !text.endsWith('\n') ? '\n' : '';
  return { at, insert: `${lead}${prefix[1]!.replace(/-\s+$/, '- ')}${entry}\n` };
}

function holds(seq: YAMLSeq, anchor: string, recipient: string): boolean {
  return seq.items.some((i) => (isAlias(i) && i.source === anchor) || (isScalar(i) && String(i.value).trim() === recipient));
}

/**
 * The anchor under `keys:` the host's rules should alias, and the splices to get there. A recipient
 * already listed (under any anchor, e.g. `&orion`) is reused, never listed twice: a second anchor
 * for the same key is the duplicate `sops` users then have to clean up by hand.
 */
function planKeys(text: string, doc: Document, anchor: string, recipient: string, notes: string[]): { anchor: string; splices: Splice[] } {
  const keys = doc.get('keys', true);
  if (keys === undefined || keys === null || (isScalar(keys) && keys.value === null)) {
    const entry = `  - &${anchor} ${recipient}\n`;
    const pairs = (doc.contents as YAMLMap).items;
    const own = pairs.find((p) => isScalar(p.key) && p.key.value === 'keys');
    if (own && isScalar(own.key) && own.key.range) {
      // `keys:` with nothing under it: the entry goes right below, and the line keeps its comment.
      const start = lineStart(text, own.key.range[0]);
      const line = /^keys:[ \t]*(?:~|null)?[ \t]*(#[^\n]*)?\n?$/.exec(text.slice(start, lineEnd(text, start)));
      if (!line) {
        notes.push(`could not extend keys: in place; add "- &${anchor} ${recipient}" by hand`);
        return { anchor, splices: [] };
      }
      const end = lineEnd(text, start);
      return { anchor, splices: [{ at: start, remove: end - start, insert: `keys:${line[1] ? ` ${line[1]}` : ''}\n${entry}` }] };
    }
    const rules = pairs.find((p) => isScalar(p.key) && p.key.value === 'creation_rules');
    const at = rules && isScalar(rules.key) && rules.key.range ? lineStart(text, rules.key.range[0]) : text.length;
    const lead = at === text.length && text !== '' && !text.endsWith('\n') ? '\n' : '';
    return { anchor, splices: [{ at, insert: `${lead}keys:\n${entry}` }] };
  }
  if (!isSeq(keys)) {
    notes.push(`keys: in .sops.yaml is not a list; add "- &${anchor} ${recipient}" to it by hand`);
    return { anchor, splices: [] };
  }
  const items = keys.items as Node[];
  const same = items.filter((i) => isScalar(i) && String(i.value).trim() === recipient);
  const listed = same.find((i) => i.anchor === anchor) ?? same.find((i) => i.anchor) ?? same[0];
  if (listed?.anchor) return { anchor: listed.anchor, splices: [] };
  if (listed?.range) return { anchor, splices: [{ at: listed.range[0], insert: `&${anchor} ` }] }; // listed bare: name it
  const existing = items.find((i) => i.anchor === anchor);
  if (existing) {
    const r = existing.range!;
    return { anchor, splices: [{ at: r[0], remove: r[1] - r[0], insert: recipient }] }; // rotated key: same anchor, new value
  }
  const s = appendToSeq(text, keys, `&${anchor} ${recipient}`);
  if (!s) notes.push(`could not extend keys: in place; add "- &${anchor} ${recipient}" by hand`);
  return { anchor, splices: s ? [s] : [] };
}

/** Add the host to one rule's recipients; returns splices, or undefined when it cannot. */
function planRule(text: string, rule: YAMLMap, anchor: string, recipient: string): Splice[] | undefined {
  const groups = rule.get('key_groups', true);
  if (isSeq(groups)) {
    const ages = groups.items.filter(isMap).map((g) => g.get('age', true) as unknown).filter((a): a is YAMLSeq => isSeq(a));
    if (ages.length === 0) return undefined;
    if (ages.some((a) => holds(a, anchor, recipient))) return [];
    const s = appendToSeq(text, ages[0]!, `*${anchor}`);
    return s ? [s] : undefined;
  }
  const age = rule.get('age', true);
  if (isSeq(age)) {
    if (holds(age, anchor, recipient)) return [];
    const s = appendToSeq(text, age, `*${anchor}`);
    return s ? [s] : undefined;
  }
  if (isScalar(age) && typeof age.value === 'string' && age.range) {
    // sops' own form: a comma-separated string, where an alias cannot go; add the literal key.
    if (age.value.split(',').map((x) => x.trim()).includes(recipient)) return [];
    let end = age.range[1];
    while (end > age.range[0] && /\s/.test(text[end - 1]!)) end--;
    const quoted = age.type === 'QUOTE_DOUBLE' || age.type === 'QUOTE_SINGLE';
    return [{ at: quoted ? end - 1 : end, insert: `,${recipient}` }];
  }
  return undefined;
}

/**
 * Pure: the new .sops.yaml text. Throws a usage error (exit 2) when the file is not one sops
 * would read or bootstrap can extend (see sops-yaml-check.ts); callers check it before writing.
 */
export function planSopsYaml(text: string, input: SopsHostInput, file = '.sops.yaml'): SopsYamlPlan {
  const { host, recipient } = input;
  const doc = parseSopsYaml(text, file);
  const notes: string[] = [];
  const { anchor, splices } = planKeys(text, doc, input.anchor ?? anchorFor(host), recipient, notes);
  const rules: string[] = [];
  const ruleSeq = doc.get('creation_rules', true);
  for (const rule of isSeq(ruleSeq) ? ruleSeq.items.filter(isMap) : []) {
    const regex = rule.get('path_regex');
    if (typeof regex !== 'string') continue;
    if (!ruleMentionsHost(regex, host) && !(input.extraRules ?? []).includes(regex)) continue;
    const s = planRule(text, rule, anchor, recipient);
    if (s === undefined) notes.push(`creation rule "${regex}" has no age list we can extend; add *${anchor} (${recipient}) to it by hand`);
    else {
      splices.push(...s);
      rules.push(regex);
    }
  }
  const shadow = findShadowingRule(isSeq(ruleSeq) ? ruleSeq.items.filter(isMap) : [], `${input.hostDir ?? `hosts/${host}`}/secrets.yaml`, rules);
  if (shadow) notes.push(`sops encrypts ${shadow.path} with the first rule that matches it, "${shadow.first}", which does not list ${host}: move "${shadow.own}" above it in ${file}, or ${host} cannot decrypt its own secrets`);
  if (rules.length === 0 && notes.length === 0 && input.anchor === undefined) {
    // No rule names the host: give it its own rule, first (sops uses the first matching rule), for
    // its secrets file, readable by whoever the rule that matched that file so far lets read it.
    const added = planHostRule(text, ruleSeq, input.hostDir ?? `hosts/${host}`, anchor);
    if (added) {
      splices.push(added.splice);
      rules.push(added.regex);
      notes.push(`added a creation rule for ${host} (${added.regex}) ahead of the others in ${file}${added.from ? `, with the keys of "${added.from}"` : ''}`);
    } else {
      notes.push(`no creation rule in ${file} covers ${host}; add one, e.g.\n  - path_regex: hosts/${host}/secrets\\.ya?ml$\n    key_groups:\n      - age:\n          - *${anchor}`);
    }
  }
  const content = applySplices(text, splices);
  verify(content, anchor, recipient, file);
  return { content, changed: content !== text, rules, notes };
}

/**
 * A rule for the host's own secrets file, inserted before the first rule of a block list. Its age
 * list repeats the aliases of the rule that matched that file until now (the admins), plus the
 * host. undefined when creation_rules is not a block list bootstrap can extend.
 */
function planHostRule(text: string, ruleSeq: unknown, dir: string, anchor: string): { splice: Splice; regex: string; from?: string } | undefined {
  if (!isSeq(ruleSeq) || ruleSeq.flow || !ruleSeq.items.length) return undefined;
  const first = ruleSeq.items[0] as Node;
  if (!first.range) return undefined;
  const lineStart = text.lastIndexOf('\n', first.range[0] - 1) + 1;
  const dash = /^(\s*)- /.exec(text.slice(lineStart));
  if (!dash) return undefined;
  const indent = dash[1]!;
  const regex = `${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/secrets\\.ya?ml$`;
  // The rule that covered the host's secrets file so far, and the aliases of its first age list.
  const rules = ruleSeq.items.filter(isMap);
  const before = rules.find((r) => ruleMatchesPath(r, `${dir}/secrets.yaml`));
  const groups = before?.get('key_groups', true);
  const firstGroup = isSeq(groups) && isMap(groups.items[0]) ? groups.items[0] : undefined;
  const age = firstGroup?.get('age', true);
  const aliases = isSeq(age) ? age.items.filter((i) => isAlias(i)).map((i) => `*${(i as { source: string }).source}`) : [];
  const lines = [`${indent}- path_regex: ${regex}`, `${indent}  key_groups:`, `${indent}    - age:`, ...[...aliases, `*${anchor}`].map((a) => `${indent}        - ${a}`)];
  return { splice: { at: lineStart, insert: `${lines.join('\n')}\n` }, regex, ...(before ? { from: String(before.get('path_regex')) } : {}) };
}

/** Whether a creation rule's path_regex matches `path` (a regex sops could not compile matches nothing). */
function ruleMatchesPath(rule: YAMLMap, path: string): boolean {
  const re = rule.get('path_regex');
  try {
    return typeof re === 'string' && new RegExp(re).test(path);
  } catch {
    return false;
  }
}

/**
 * sops uses the FIRST creation rule whose path_regex matches a file. A rule for the host placed
 * after a broader one (`.*\.yaml$`) never applies to the host's secrets file: say so.
 */
function findShadowingRule(all: YAMLMap[], path: string, hostRules: string[]): { path: string; first: string; own: string } | undefined {
  const matches = (r: YAMLMap) => ruleMatchesPath(r, path);
  const own = all.find((r) => matches(r) && hostRules.includes(String(r.get('path_regex'))));
  const first = all.find(matches);
  if (!own || !first || first === own || hostRules.includes(String(first.get('path_regex')))) return undefined;
  return { path, first: String(first.get('path_regex')), own: String(own.get('path_regex')) };
}

function applySplices(text: string, splices: Splice[]): string {
  let content = text;
  for (const s of [...splices].sort((a, b) => b.at - a.at)) content = content.slice(0, s.at) + s.insert + content.slice(s.at + (s.remove ?? 0));
  return content;
}

/**
 * Pure: list one recipient under `keys:` with `anchor` (a recipient already listed keeps its own
 * anchor), touching no creation rule. For a key not tied to one host (the shared admin key).
 */
export function planSopsYamlKey(text: string, anchor: string, recipient: string, file = '.sops.yaml'): SopsYamlPlan {
  const doc = parseSopsYaml(text, file);
  const notes: string[] = [];
  const planned = planKeys(text, doc, anchor, recipient, notes);
  const content = applySplices(text, planned.splices);
  verify(content, planned.anchor, recipient, file);
  return { content, changed: content !== text, rules: [], notes };
}

/** Belt and braces: the edited text parses and the anchor resolves to the recipient. */
function verify(content: string, anchor: string, recipient: string, file: string): void {
  const doc = parseDocument(content);
  const keys = doc.get('keys', true);
  const ok = doc.errors.length === 0 && isSeq(keys) && keys.items.some((i) => (i as Node).anchor === anchor && isScalar(i) && String(i.value) === recipient);
  if (!ok) throw usageError('sops-yaml-edit-failed', `could not add ${anchor} to ${file} safely; it has an unusual layout`, `add "- &${anchor} ${recipient}" under keys: by hand`);
}

/** Pure: which rule (first match wins, as in sops) a flake-relative path falls under. */
export function parseCreationRules(text: string): string[] {
  const doc = parseDocument(text);
  const rules = doc.get('creation_rules', true);
  if (!isSeq(rules)) return [];
  return rules.items.filter(isMap).map((r) => String(r.get('path_regex') ?? ''));
}

export function matchRule(rules: string[], relPath: string): string | undefined {
  return rules.find((r) => {
    try {
      return r !== '' && new RegExp(r).test(relPath);
    } catch {
      return false;
    }
  });
}

/**
 * Pure: is a .sops.yaml something bootstrap may edit? Parse it and check its shape the way sops
 * reads it (getsops/sops config/config.go, go yaml.v3 `Unmarshal` into typed structs), before
 * anything is written: a bad file is one `Problem` (line, what, hint), never a half-done run.
 *
 * Strict where sops is strict: a document that is not a mapping, `creation_rules` that is not a
 * list of mappings, `key_groups` not a list of mappings, a key group's `age`/`pgp`/`hc_vault` not
 * a list of strings, a rule's `age`/`pgp`/`kms`/… neither a string nor a list of strings, an
 * undefined alias. Lenient where sops is lenient: unknown keys, a missing or empty
 * `creation_rules`, a rule's `age` as a comma-separated string, a rule with a path_regex but no
 * keys (sops takes them from flags then), merge keys (`<<: *defaults`).
 *
 * Stricter than sops, on purpose:
 * - `keys:` must be a list when present (sops ignores it; bootstrap puts the host's anchor there).
 * - An anchor defined twice (YAML allows it silently): bootstrap finds anchors by name, and with
 *   two `&a` a secret can be encrypted to the wrong host. Refused with both lines named.
 * - An empty file (or only comments): no host can be registered in it; we never overwrite it.
 * - A rule with neither `path_regex` nor any key: it matches every file and encrypts to no one.
 * - `yaml` warnings (an unresolved tag, an ambiguous `*a:` alias): each is a doubt about what the
 *   file means, and a text splice on a file two parsers may read differently is not safe. The one
 *   exception is a flow collection's closing `]`/`}` at its parent's indent, which libyaml (and so
 *   sops) accepts without comment.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type YAMLMap } from 'yaml';
import { usageError, type BootstrapError } from '../errors.js';

export interface SopsYamlProblem {
  file: string;
  /** 1-based, when the problem has a place. */
  line?: number;
  message: string;
  hint: string;
}

export type SopsYamlCheck = { ok: true; doc: Document.Parsed } | { ok: false; problem: SopsYamlProblem };

const SOPS_DOCS = 'https://github.com/getsops/sops#using-sops-yaml-conf-to-select-kms-pgp-and-age-for-new-files';

/** A creation rule's key fields that sops reads as "a string (comma-separated) or a list of strings". */
const RULE_KEY_FIELDS = ['age', 'pgp', 'kms', 'gcp_kms', 'azure_keyvault', 'hc_vault_transit_uri'] as const;
/** A creation rule's plain string fields. */
const RULE_STRING_FIELDS = ['path_regex', 'aws_profile', 'unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex'];
/** A key group's fields: lists of strings, and lists of mappings. */
const GROUP_STRING_LISTS = ['age', 'pgp', 'hc_vault'];
const GROUP_MAP_LISTS = ['kms', 'gcp_kms', 'azure_keyvault', 'hckms'];

class Bad extends Error {
  constructor(
    readonly node: Node | null | undefined,
    message: string,
    readonly hint: string,
    /** When the yaml library placed the problem by line only. */
    readonly line?: number,
  ) {
    super(message);
  }
}

/** "a number", "a list", … for messages. */
function describe(node: unknown): string {
  if (node === null || node === undefined) return 'empty';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'empty';
    if (typeof v === 'string') return 'a string';
    if (typeof v === 'number' || typeof v === 'bigint') return `a number (${String(v)})`;
    if (typeof v === 'boolean') return `a boolean (${String(v)})`;
  }
  return 'an unexpected value';
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function isStringScalar(node: unknown): boolean {
  return isScalar(node) && typeof node.value === 'string';
}

class SopsYamlChecker {
  private readonly lines = new LineCounter();
  private doc!: Document.Parsed;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  check(): SopsYamlCheck {
    this.doc = parseDocument(this.text, { lineCounter: this.lines });
    try {
      this.checkSyntax();
      this.checkAnchors();
      this.checkShape();
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      const line = e.line ?? (e.node ? this.lineOf(e.node) : undefined);
      return { ok: false, problem: { file: this.file, ...(line !== undefined ? { line } : {}), message: e.message, hint: e.hint } };
    }
    return { ok: true, doc: this.doc };
  }

  private lineOf(node: Node): number | undefined {
    return node.range ? this.lines.linePos(node.range[0]).line : undefined;
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  private checkSyntax(): void {
    const fatal = [...this.doc.errors, ...this.doc.warnings.filter((w) => !(w.code === 'BAD_INDENT' && /^Flow end indicator/.test(w.message)))];
    const first = fatal[0];
    if (first) {
      const message = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const line = first.linePos?.[0]?.line;
      throw new Bad(undefined, `YAML ${first.name === 'YAMLWarning' ? 'ambiguity' : 'syntax error'}: ${message}`, `fix the YAML in ${this.file}`, line);
    }
    const c = this.doc.contents;
    if (isNull(c)) {
      throw new Bad(null, this.text.trim() === '' ? 'the file is empty' : 'the file holds only comments', `delete ${this.file} and bootstrap creates one, or give it keys: and creation_rules: (${SOPS_DOCS})`);
    }
    if (!isMap(c)) {
      throw new Bad(c, `the document is ${describe(c)}, not a mapping with keys: and creation_rules:`, `sops reads ${this.file} as a mapping: keys: (anchors) and creation_rules: (${SOPS_DOCS})`);
    }
  }

  /** Aliases only to anchors defined before them (as go-yaml and the YAML spec read them); each anchor once. */
  private checkAnchors(): void {
    const seen = new Map<string, Node>();
    visit(this.doc, (_key, node) => {
      if (isPair(node)) return;
      if (isAlias(node)) {
        if (!seen.has(node.source)) {
          throw new Bad(node, `undefined alias *${node.source}: no &${node.source} anchor comes before it`, `define "&${node.source}" under keys: above its first use, or fix the alias' name`);
        }
        return;
      }
      const n = node as Node;
      if (n.anchor) {
        const first = seen.get(n.anchor);
        if (first) {
          throw new Bad(n, `anchor &${n.anchor} is defined twice (first on line ${this.lineOf(first) ?? '?'})`, `give each key its own anchor name; aliases to &${n.anchor} are ambiguous`);
        }
        seen.set(n.anchor, n);
      }
    });
  }

  /** A mapping's entries by key, with `<<` merges (own keys win, as in go-yaml). */
  private entries(map: YAMLMap): Map<string, { key: Node; value: unknown }> {
    const out = new Map<string, { key: Node; value: unknown }>();
    const merged: YAMLMap[] = [];
    for (const p of map.items) {
      const k = p.key as Node;
      const name = isScalar(k) ? String(k.value) : '';
      if (name === '<<') {
        const v = this.resolve(p.value);
        for (const m of isSeq(v) ? v.items.map((i) => this.resolve(i)) : [v]) {
          if (!isMap(m)) throw new Bad(k, `a merge key (<<) must point to a mapping, not ${describe(m)}`, 'merge an anchored mapping: `<<: *defaults`');
          merged.push(m);
        }
        continue;
      }
      out.set(name, { key: k, value: p.value });
    }
    for (const m of merged) for (const [name, e] of this.entries(m)) if (!out.has(name)) out.set(name, e);
    return out;
  }

  private checkShape(): void {
    const root = this.entries(this.doc.contents as YAMLMap);
    const keys = root.get('keys');
    if (keys && !isNull(keys.value) && !isSeq(keys.value)) {
      const what = isAlias(keys.value) ? `an alias (*${keys.value.source})` : describe(keys.value);
      throw new Bad((keys.value as Node) ?? keys.key, `keys: is ${what}, not a list`, 'make keys: a list written out in place, one `- &name age1…` item per key');
    }
    const rules = root.get('creation_rules');
    if (!rules || isNull(rules.value)) return; // sops: no rules, nothing to match
    const seq = this.resolve(rules.value);
    if (!isSeq(seq)) {
      throw new Bad((rules.value as Node) ?? rules.key, `creation_rules: is ${describe(seq)}, not a list of rules`, 'make creation_rules: a list, one `- path_regex: …` item per rule');
    }
    seq.items.forEach((item, i) => this.checkRule(item as Node, i + 1));
  }

  private checkRule(item: Node, n: number): void {
    const rule = this.resolve(item);
    const where = `creation rule #${n}`;
    if (!isMap(rule)) {
      throw new Bad(item, `${where} is ${describe(rule)}, not a mapping`, 'a rule is a mapping: `- path_regex: …` with `key_groups:` or `age:` on the lines below, indented alike');
    }
    const e = this.entries(rule);
    for (const f of RULE_STRING_FIELDS) {
      const v = e.get(f);
      const r = this.resolve(v?.value);
      if (v && !isNull(r) && !isScalar(r)) throw new Bad((v.value as Node) ?? v.key, `${where}: ${f} is ${describe(r)}, not a string`, `write ${f} as a single string`);
    }
    const st = e.get('shamir_threshold');
    const stv = this.resolve(st?.value);
    if (st && !isNull(stv) && !(isScalar(stv) && Number.isInteger(stv.value))) {
      throw new Bad((st.value as Node) ?? st.key, `${where}: shamir_threshold is ${describe(stv)}, not a whole number`, 'set shamir_threshold to the number of key groups needed, e.g. 2');
    }
    let hasKeys = false;
    for (const f of RULE_KEY_FIELDS) {
      const v = e.get(f);
      if (!v) continue;
      const r = this.resolve(v.value);
      if (isNull(r)) continue;
      if (isStringScalar(r)) {
        hasKeys ||= String((r as { value: string }).value).trim() !== '';
        continue;
      }
      if (isSeq(r)) {
        this.stringList(r.items as Node[], `${where}: ${f}`);
        hasKeys ||= r.items.length > 0;
        continue;
      }
      throw new Bad((v.value as Node) ?? v.key, `${where}: ${f} is ${describe(r)}, not a list or a comma-separated string`, `make ${f} a list of recipients (\`- *admin\` items) or one comma-separated string`);
    }
    const hckms = e.get('hckms');
    if (hckms && !isNull(this.resolve(hckms.value))) {
      const r = this.resolve(hckms.value);
      if (!isSeq(r)) throw new Bad((hckms.value as Node) ?? hckms.key, `${where}: hckms is ${describe(r)}, not a list`, 'list the key ids, one per line');
      this.stringList(r.items as Node[], `${where}: hckms`);
      hasKeys ||= r.items.length > 0;
    }
    const groups = e.get('key_groups');
    const g = this.resolve(groups?.value);
    if (groups && !isNull(g)) {
      if (!isSeq(g)) throw new Bad((groups.value as Node) ?? groups.key, `${where}: key_groups is ${describe(g)}, not a list of groups`, 'make key_groups a list of groups, each item starting `- age:`');
      g.items.forEach((grp, j) => this.checkGroup(grp as Node, `${where}: key group #${j + 1}`));
      hasKeys ||= g.items.length > 0;
    }
    const regex = this.resolve(e.get('path_regex')?.value);
    const hasRegex = isScalar(regex) && regex.value !== null && String(regex.value) !== '';
    if (!hasRegex && !hasKeys) {
      throw new Bad(item, `${where} has neither path_regex nor any key`, 'give it a path_regex and the keys to encrypt to (key_groups: or age:), or delete it; as it is it matches every file and encrypts to no one');
    }
  }

  private checkGroup(item: Node, where: string): void {
    const group = this.resolve(item);
    if (!isMap(group)) throw new Bad(item, `${where} is ${describe(group)}, not a mapping`, 'a key group is a mapping, e.g. `- age: [*admin]`');
    const e = this.entries(group);
    for (const f of GROUP_STRING_LISTS) {
      const v = e.get(f);
      const r = this.resolve(v?.value);
      if (!v || isNull(r)) continue;
      if (!isSeq(r)) {
        throw new Bad((v.value as Node) ?? v.key, `${where}: ${f} is ${describe(r)}, not a list`, `inside key_groups sops reads ${f} only as a list: one \`- *admin\` item per recipient`);
      }
      this.stringList(r.items as Node[], `${where}: ${f}`);
    }
    for (const f of GROUP_MAP_LISTS) {
      const v = e.get(f);
      const r = this.resolve(v?.value);
      if (!v || isNull(r)) continue;
      if (!isSeq(r)) throw new Bad((v.value as Node) ?? v.key, `${where}: ${f} is ${describe(r)}, not a list`, `write ${f} as a list of mappings`);
      for (const i of r.items as Node[]) {
        const m = this.resolve(i);
        if (!isMap(m)) throw new Bad(i, `${where}: an item of ${f} is ${describe(m)}, not a mapping`, `write each ${f} entry as a mapping`);
      }
    }
    const merge = e.get('merge');
    const m = this.resolve(merge?.value);
    if (merge && !isNull(m)) {
      if (!isSeq(m)) throw new Bad((merge.value as Node) ?? merge.key, `${where}: merge is ${describe(m)}, not a list of groups`, 'write merge as a list of key groups');
      m.items.forEach((sub, k) => this.checkGroup(sub as Node, `${where}, merged group #${k + 1}`));
    }
  }

  /** Every item a string (an alias to a string counts); a number, list or mapping is refused. */
  private stringList(items: Node[], where: string): void {
    for (const i of items) {
      const r = this.resolve(i);
      if (!isStringScalar(r)) throw new Bad(i, `${where}: an item is ${describe(r)}, not a recipient string`, 'each item is one recipient (age1…) or an alias to one (*name)');
    }
  }
}

/** Pure: parse and check a .sops.yaml. */
export function checkSopsYaml(text: string, file = '.sops.yaml'): SopsYamlCheck {
  return new SopsYamlChecker(text, file).check();
}

/** The one-line usage error (exit 2) for a problem: `FILE:LINE: what`, and a hint. */
export function sopsYamlError(p: SopsYamlProblem): BootstrapError {
  return usageError('invalid-sops-yaml', `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`, `${p.hint}; nothing was written`);
}

/** Parse and check, or throw the usage error. */
export function parseSopsYaml(text: string, file = '.sops.yaml'): Document.Parsed {
  const r = checkSopsYaml(text, file);
  if (!r.ok) throw sopsYamlError(r.problem);
  return r.doc;
}

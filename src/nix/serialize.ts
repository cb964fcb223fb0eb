/**
 * Value → Nix source. Every rendered .nix file is built from data through `toNix`, so user text
 * (host names, disk ids, subvolume names, addresses) can never break out of a string literal.
 * Only code we write ourselves enters as `nixRaw`.
 *
 * Layout follows nixfmt's RFC 166 style, so running nixfmt on our output is a no-op: 2-space
 * indent, attribute sets always expanded one binding per line, lists with more than one item (or
 * any non-scalar item) expanded one item per line, `[ ]` and `{ }` when empty.
 */

const RAW = Symbol('nix-raw');
const ENTRIES = Symbol('nix-entries');

/** A Nix expression written by us (never user text), emitted verbatim. */
export interface NixRaw {
  readonly [RAW]: string;
}

/** An attribute set with an explicit binding order, whose keys may be dotted paths. */
export interface NixEntries {
  readonly [ENTRIES]: ReadonlyArray<readonly [NixKey, NixValue]>;
}

/** One attribute name, or a path rendered as a dotted key (`disko.devices = …`). */
export type NixKey = string | readonly string[];

export interface NixAttrs {
  /** `undefined` members are skipped, so optional settings can be written inline. */
  readonly [key: string]: NixValue | undefined;
}

export type NixValue = string | number | boolean | null | NixRaw | NixEntries | readonly NixValue[] | NixAttrs;

/** Trusted Nix code, e.g. `lib.mkDefault true` or `(modulesPath + "/profiles/qemu-guest.nix")`. */
export function nixRaw(code: string): NixRaw {
  return { [RAW]: code };
}

/**
 * An attribute set whose bindings keep the given order (plain objects reorder integer-like keys)
 * and whose array keys are written dotted: `nixEntries([[['boot', 'loader'], {...}]])`.
 */
export function nixEntries(entries: ReadonlyArray<readonly [NixKey, NixValue | undefined]>): NixEntries {
  return { [ENTRIES]: entries.filter((e): e is readonly [NixKey, NixValue] => e[1] !== undefined) };
}

export const isNixRaw = (v: unknown): v is NixRaw => typeof v === 'object' && v !== null && RAW in v;
const isEntries = (v: unknown): v is NixEntries => typeof v === 'object' && v !== null && ENTRIES in v;

const KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or', 'true', 'false', 'null']);
const IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** An attribute name as Nix source: bare when it is a plain identifier, else a quoted string. */
export function nixAttrName(name: string): string {
  return IDENT.test(name) && !KEYWORDS.has(name) ? name : nixString(name);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(s: string): void {
  // Nix strings are C strings underneath and UTF-8 on disk: NUL and lone surrogates cannot be written.
  if (s.includes('\0')) throw new TypeError('toNix: strings cannot contain NUL characters');
  if (LONE_SURROGATE.test(s)) throw new TypeError('toNix: string is not well-formed Unicode (lone surrogate)');
}

/** A double-quoted Nix string literal with `"`, `\`, `${`, and control line breaks escaped. */
export function nixString(s: string): string {
  checkText(s);
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (c === '$' && s[i + 1] === '{') out += '\\$';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else out += c;
  }
  return out + '"';
}

/**
 * Whether a string reads better, and round-trips exactly, as an indented ''…'' string: several
 * lines ending in a newline, no sequence that would need an escape inside '' strings, no control
 * characters but tab, and at least one line starting at column 0 (Nix strips common indentation).
 */
function fitsIndented(s: string): boolean {
  if (!s.endsWith('\n') || s.indexOf('\n') === s.length - 1) return false;
  if (s.includes("''") || s.includes('${') || /[\x00-\x08\x0b-\x1f\x7f]/.test(s)) return false;
  return s.slice(0, -1).split('\n').some((line) => line.length > 0 && line[0] !== ' ');
}

function indentedString(s: string, indent: string): string {
  const inner = indent + '  ';
  const lines = s.slice(0, -1).split('\n').map((l) => (l.length ? inner + l : ''));
  return "''\n" + lines.join('\n') + '\n' + indent + "''";
}

function nixNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`toNix: ${n} has no Nix literal`);
  if (Number.isInteger(n)) {
    if (!Number.isSafeInteger(n)) throw new TypeError(`toNix: integer ${n} is outside the exactly representable range`);
    return String(n);
  }
  // Nix float literals need a '.' before any exponent: 1e-7 → 1.0e-7.
  const s = String(n);
  return s.includes('.') || !s.includes('e') ? s : s.replace('e', '.0e');
}

/** Whether raw code can stand as a list element or function argument without parentheses. */
function rawIsAtomic(code: string): boolean {
  const c = code.trim();
  if (/^[A-Za-z_][A-Za-z0-9_'.-]*$/.test(c) || /^-?[0-9.]+$/.test(c)) return true;
  // A single parenthesised/bracketed/braced group, or one string literal, spanning the whole code.
  const open = c[0];
  const close = open === '(' ? ')' : open === '[' ? ']' : open === '{' ? '}' : open === '"' ? '"' : undefined;
  if (!close || c[c.length - 1] !== close) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < c.length; i++) {
    const ch = c[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') {
        inString = false;
        if (open === '"') return i === c.length - 1;
      }
      continue;
    }
    if (ch === '"') inString = true;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch) && --depth === 0) return i === c.length - 1;
  }
  return false;
}

function isScalar(v: NixValue): boolean {
  if (v === null || typeof v !== 'object') return typeof v !== 'string' || !v.includes('\n') || !fitsIndented(v);
  if (isNixRaw(v)) return !v[RAW].includes('\n');
  return false;
}

function bindings(v: NixEntries | NixAttrs): Array<readonly [NixKey, NixValue]> {
  if (isEntries(v)) return [...v[ENTRIES]];
  return Object.entries(v).filter((e): e is [string, NixValue] => e[1] !== undefined);
}

function renderKey(key: NixKey): string {
  if (typeof key === 'string') return nixAttrName(key);
  if (key.length === 0) throw new TypeError('toNix: empty attribute path');
  return key.map(nixAttrName).join('.');
}

function render(v: NixValue, indent: string, inList: boolean): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    const s = nixNumber(v);
    return inList && s.startsWith('-') ? `(${s})` : s;
  }
  if (typeof v === 'string') {
    checkText(v);
    return fitsIndented(v) ? indentedString(v, indent) : nixString(v);
  }
  if (isNixRaw(v)) {
    const code = v[RAW].replace(/\n(?=.)/g, '\n' + indent);
    return inList && !rawIsAtomic(v[RAW]) ? `(${code})` : code;
  }
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    const items = v as readonly NixValue[];
    if (items.length === 0) return '[ ]';
    if (items.length === 1 && isScalar(items[0]!)) return `[ ${render(items[0]!, indent, true)} ]`;
    return '[\n' + items.map((x) => inner + render(x, inner, true)).join('\n') + '\n' + indent + ']';
  }
  const binds = bindings(v as NixEntries | NixAttrs);
  if (binds.length === 0) return '{ }';
  const lines = binds.map(([k, x]) => `${inner}${renderKey(k)} = ${render(x, inner, false)};`);
  return '{\n' + lines.join('\n') + '\n' + indent + '}';
}

/**
 * Render a value as a Nix expression. Throws TypeError for values Nix cannot represent
 * (NaN, Infinity, unsafe integers, NUL or lone surrogates in strings, functions).
 */
export function toNix(value: NixValue): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new TypeError(`toNix: cannot render a ${typeof value}`);
  }
  return render(value, '', false);
}

export interface NixModuleSpec {
  /** Formal arguments, e.g. ['config', 'lib', 'modulesPath', '...']; [] renders a plain attrset file. */
  args?: string[];
  /** Comment lines put above the expression (without the leading `# `). */
  header?: string[];
  imports?: NixValue[];
  body: NixAttrs | NixEntries;
}

/** A NixOS module file: `{ config, lib, ... }: { imports = [ … ]; … }` plus a trailing newline. */
export function nixModule(spec: NixModuleSpec): string {
  const head = (spec.header ?? []).map((l) => (l ? `# ${l}` : '#')).join('\n');
  const body = bindings(spec.body);
  if (spec.imports && spec.imports.length > 0) body.unshift(['imports', spec.imports]);
  const expr = toNix(nixEntries(body));
  const args = spec.args ?? [];
  for (const a of args) if (a !== '...' && !IDENT.test(a)) throw new TypeError(`nixModule: bad argument name ${a}`);
  // nixfmt expands formals one per line, each followed by a comma except the ellipsis.
  const formals = args.length === 0 ? '' : `{\n${args.map((a) => (a === '...' ? '  ...' : `  ${a},`)).join('\n')}\n}:\n`;
  return (head ? head + '\n' : '') + formals + expr + '\n';
}

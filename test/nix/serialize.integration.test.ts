import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nixAttrName, nixEntries, nixModule, nixRaw, nixString, toNix } from '../../src/nix/serialize.js';
import { evalModuleJson, evalTextJson, parseNix } from '../helpers/nix.js';

/** Deterministic PRNG (mulberry32) so a failing string can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Pieces that are dangerous in Nix strings, mixed with ordinary text.
const PIECES = ['$', '{', '}', '${', '$${', "''", "'", "'''", '"', '\\', '\\n', '\n', '\r', '\t', ' ', '  ', 'a', 'Zz',
  'é', 'ß', '日本', '🦀', '👩‍💻', '\u00a0', '\u2028', '\x01', '\x7f', 'or', 'in', '#', '/*', '*/', ';', '=', '.', '@', '~'];

function randomStrings(n: number, seed: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = Math.floor(r() * 12);
    let s = '';
    for (let j = 0; j < len; j++) s += PIECES[Math.floor(r() * PIECES.length)];
    // Some multi-line strings ending in a newline, to exercise the ''…'' form.
    if (r() < 0.3) s = s.replace(/\r/g, '') + '\nline two\n';
    out.push(s);
  }
  return out;
}

const FIXED = ['', '"', '\\', '${x}', '$${x}', '\\${x}', '$', 'a$', "''", "'''", "''${x}", "''\\n", 'a\nb', 'a\nb\n',
  '  indented\n  all\n', '\tTab\n  mixed\n', "x'\ny\n", "end'\n'\n", 'line\r\n', 'unicode ✓ 🦀 日本語', '\n', '\n\n', ' \n',
  '$\n{\n', 'if', 'with', 'rec'];

test('strings round-trip through nix-instantiate --eval (fixed and seeded random)', async () => {
  const strings = [...FIXED, ...randomStrings(400, 20240611)];
  // The set must exercise both literal forms, or the test proves less than it claims.
  const indented = strings.filter((s) => toNix(s).startsWith("''")).length;
  assert.ok(indented >= 20 && indented < strings.length - 100, `only ${indented} strings rendered as ''…''`);
  const got = (await evalTextJson(toNix(strings))) as string[];
  assert.equal(got.length, strings.length);
  for (let i = 0; i < strings.length; i++) {
    assert.equal(got[i], strings[i], `string #${i} ${JSON.stringify(strings[i])} rendered as ${toNix(strings[i]!)}`);
  }
});

test('strings as attribute names round-trip, quoted only when needed', async () => {
  const names = [...FIXED, ...randomStrings(150, 7)];
  const attrs = Object.fromEntries(names.map((n, i) => [n, i]));
  const got = (await evalTextJson(toNix(attrs))) as Record<string, number>;
  assert.deepEqual(got, attrs);
  assert.equal(nixAttrName('foo-bar_1'), 'foo-bar_1');
  assert.equal(nixAttrName("a'"), "a'");
  assert.equal(nixAttrName('/home'), '"/home"');
  assert.equal(nixAttrName('1abc'), '"1abc"');
  assert.equal(nixAttrName('in'), '"in"');
  assert.equal(nixAttrName('a.b'), '"a.b"');
});

test('nested values round-trip', async () => {
  const value = {
    int: 42,
    neg: -7,
    big: 2 ** 40,
    float: 1.5,
    tiny: 1e-7,
    t: true,
    f: false,
    n: null,
    empty: {},
    emptyList: [],
    list: [1, -2, 'x', null, [true, []], { a: { b: ['c'] } }],
    one: ['only'],
    nested: { 'x.y': { z: 'deep' } },
  };
  assert.deepEqual(await evalTextJson(toNix(value)), value);
});

test('layout matches nixfmt RFC style', () => {
  const text = toNix({ a: 1, b: { c: ['x', 'y'], d: [], e: {}, f: ['one'], g: [{ h: 1 }] }, s: 'l1\nl2\n' });
  assert.equal(
    text,
    `{
  a = 1;
  b = {
    c = [
      "x"
      "y"
    ];
    d = [ ];
    e = { };
    f = [ "one" ];
    g = [
      {
        h = 1;
      }
    ];
  };
  s = ''
    l1
    l2
  '';
}`,
  );
});

test('nixRaw passes through, parenthesised in lists when not atomic', async () => {
  const text = toNix({
    a: nixRaw('lib.mkDefault true'),
    l: [nixRaw('lib.mkDefault 1'), nixRaw('(modulesPath + "/x.nix")'), nixRaw('pkgs.hello'), nixRaw('"a(b"')],
    // Looks wrapped but is two groups: must be parenthesised.
    m: [nixRaw('(1) + (2)'), 5],
  });
  assert.match(text, /a = lib\.mkDefault true;/);
  assert.match(text, /\(lib\.mkDefault 1\)/);
  assert.match(text, /^ {4}\(modulesPath \+ "\/x\.nix"\)$/m);
  assert.match(text, /^ {4}pkgs\.hello$/m);
  assert.match(text, /^ {4}"a\(b"$/m);
  assert.match(text, /\(\(1\) \+ \(2\)\)/);
  const got = await evalTextJson(`let lib = { mkDefault = x: x; }; modulesPath = "/m"; pkgs = { hello = "h"; }; in ${text}`);
  assert.deepEqual(got, { a: true, l: [1, '/m/x.nix', 'h', 'a(b'], m: [3, 5] });
});

test('nixEntries keeps order, including integer-like keys, and writes dotted paths', async () => {
  const text = toNix(nixEntries([['b', 1], ['10', 2], ['2', 3], [['disko', 'devices'], { x: 1 }], ['skip', undefined]]));
  assert.equal(text, '{\n  b = 1;\n  "10" = 2;\n  "2" = 3;\n  disko.devices = {\n    x = 1;\n  };\n}');
  assert.deepEqual(await evalTextJson(text), { b: 1, '10': 2, '2': 3, disko: { devices: { x: 1 } } });
});

test('nixModule renders a module file that parses and evaluates', async () => {
  const text = nixModule({
    header: ['Generated by nixos-bootstrap.'],
    args: ['config', 'lib', 'modulesPath', '...'],
    imports: [nixRaw('(modulesPath + "/profiles/qemu-guest.nix")')],
    body: { networking: { hostName: 'web1' }, x: nixRaw('lib.mkDefault config.y') },
  });
  assert.ok(text.startsWith('# Generated by nixos-bootstrap.\n{\n  config,\n  lib,\n  modulesPath,\n  ...\n}:\n{\n  imports = [ (modulesPath'));
  assert.ok(text.endsWith('}\n'));
  await parseNix(text);
  const got = await evalModuleJson(text, '{ config = { y = 3; }; lib = { mkDefault = x: x; }; modulesPath = "/m"; }');
  assert.deepEqual(got, { imports: ['/m/profiles/qemu-guest.nix'], networking: { hostName: 'web1' }, x: 3 });
});

test('values Nix cannot represent are refused', () => {
  assert.throws(() => toNix(NaN), /no Nix literal/);
  assert.throws(() => toNix(2 ** 60), /representable/);
  assert.throws(() => toNix('a\0b'), /NUL/);
  assert.throws(() => toNix('\ud800'), /surrogate/);
  assert.throws(() => toNix(undefined as never), /cannot render/);
  assert.equal(nixString('${'), '"\\${"');
});

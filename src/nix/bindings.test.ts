import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindingsToNix, flattenAttrs, mergeBindings } from './bindings.js';
import { nixRaw, toNix } from './serialize.js';

test('flattenAttrs turns nested tables into dotted leaves; lists, raw code and empty sets are leaves', () => {
  const raw = nixRaw('lib.mkDefault 1');
  assert.deepEqual(flattenAttrs({ a: { b: { c: 1 }, l: [{ x: 1 }], e: {}, r: raw, u: undefined } }), [
    [['a', 'b', 'c'], 1],
    [['a', 'l'], [{ x: 1 }]],
    [['a', 'e'], {}],
    [['a', 'r'], raw],
  ]);
});

test('mergeBindings drops identical repeats and refuses contradictions', () => {
  const merged = mergeBindings(
    { source: 'scan', bindings: [[['a', 'b'], 1], [['x'], nixRaw('lib.mkDefault true')]] },
    { source: 'profile', bindings: [[['a', 'b'], 1], [['a', 'c'], 2], [['x'], nixRaw('lib.mkDefault true')]] },
  );
  assert.deepEqual(merged.map(([p]) => p.join('.')), ['a.b', 'x', 'a.c']);
  assert.throws(() => mergeBindings({ source: 's', bindings: [[['a'], 1]] }, { source: 'p', bindings: [[['a'], 2]] }), /a is set by both s and p/);
  assert.throws(() => mergeBindings({ source: 's', bindings: [[['a', 'b'], 1]] }, { source: 'p', bindings: [[['a', 'b', 'c'], 2]] }), /a\.b\.c \(p\) conflicts with a\.b \(s\)/);
  assert.throws(() => mergeBindings({ source: 's', bindings: [[['a'], nixRaw('x')]] }, { source: 'p', bindings: [[['a'], nixRaw('y')]] }), /different values/);
});

test('bindingsToNix renders dotted keys, quoting odd segments', () => {
  assert.equal(toNix(bindingsToNix([[['fileSystems', '/data', 'options'], ['noatime']]])), '{\n  fileSystems."/data".options = [ "noatime" ];\n}');
});

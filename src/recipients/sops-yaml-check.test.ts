import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../errors.js';
import { checkSopsYaml, parseSopsYaml, sopsYamlError } from './sops-yaml-check.js';

const A = 'age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u';
const B = 'age12zlz6lvcdk6eqaewfylg35w0syh58sm7gh53q5vvn7hd7c6nngyseftjxl';

/** [name, text, line or undefined, message pattern]: files sops (or bootstrap, see the module doc) refuses. */
const BAD: [string, string, number | undefined, RegExp][] = [
  ['YAML syntax error (bad indent)', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: x\n   key_groups: []\n`, 5, /^YAML syntax error: /],
  ['YAML syntax error (unclosed flow)', 'keys: [\n', 2, /^YAML syntax error: .*\]/],
  ['duplicate mapping key', 'keys: []\nkeys: []\n', 2, /^YAML syntax error: Map keys must be unique/],
  ['tab indentation', 'keys:\n\t- a\n', 2, /^YAML syntax error: Tabs/],
  ['two documents', 'keys: []\n---\nkeys: []\n', 2, /^YAML syntax error: .*multiple documents/],
  ['unresolved tag (a yaml warning)', `creation_rules:\n  - path_regex: !regex x\n    age: ${A}\n`, 2, /^YAML ambiguity: Unresolved tag: !regex/],
  ['undefined alias', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: x\n    key_groups:\n      - age:\n          - *nope\n`, 7, /^undefined alias \*nope: no &nope anchor/],
  ['alias before its anchor', `creation_rules:\n  - path_regex: x\n    age: [*admin]\nkeys:\n  - &admin ${A}\n`, 3, /^undefined alias \*admin/],
  ['duplicate anchors', `keys:\n  - &a ${A}\n  - &a ${B}\ncreation_rules:\n  - path_regex: x\n    age: [*a]\n`, 3, /^anchor &a is defined twice \(first on line 2\)/],
  ['empty file', '', undefined, /^the file is empty$/],
  ['whitespace only', '\n  \n', undefined, /^the file is empty$/],
  ['comments only', '# keys go here\n', undefined, /^the file holds only comments$/],
  ['a YAML list', `- ${A}\n- ${B}\n`, 1, /^the document is a list, not a mapping/],
  ['a YAML scalar', 'creation_rules\n', 1, /^the document is a string, not a mapping/],
  ['a number', '5\n', 1, /^the document is a number \(5\)/],
  ['keys: a mapping', `keys:\n  admin: ${A}\ncreation_rules: []\n`, 2, /^keys: is a mapping, not a list/],
  ['keys: a string', `keys: ${A}\n`, 1, /^keys: is a string, not a list/],
  ['creation_rules: 5', 'keys: []\ncreation_rules: 5\n', 2, /^creation_rules: is a number \(5\), not a list of rules/],
  ['creation_rules: a mapping', 'creation_rules:\n  path_regex: x\n  age: a\n', 2, /^creation_rules: is a mapping/],
  ['a rule that is a string', `creation_rules:\n  - path_regex: x\n    age: ${A}\n  - hosts/.*\n`, 4, /^creation rule #2 is a string, not a mapping/],
  ['a rule that is a list', `creation_rules:\n  - - path_regex: x\n`, 2, /^creation rule #1 is a list, not a mapping/],
  ['rule age: 5', 'creation_rules:\n  - path_regex: x\n    age: 5\n', 3, /^creation rule #1: age is a number \(5\), not a list or a comma-separated string/],
  ['rule age: a mapping', `creation_rules:\n  - path_regex: x\n    age:\n      admin: ${A}\n`, 4, /^creation rule #1: age is a mapping/],
  ['rule age: a list holding a number', 'creation_rules:\n  - path_regex: x\n    age: [5]\n', 3, /^creation rule #1: age: an item is a number \(5\), not a recipient string/],
  ['rule pgp: true', 'creation_rules:\n  - path_regex: x\n    pgp: true\n', 3, /^creation rule #1: pgp is a boolean/],
  ['path_regex: a list', `creation_rules:\n  - path_regex: [a, b]\n    age: ${A}\n`, 2, /^creation rule #1: path_regex is a list, not a string/],
  ['shamir_threshold: two', `creation_rules:\n  - path_regex: x\n    shamir_threshold: two\n    age: ${A}\n`, 3, /shamir_threshold is a string, not a whole number/],
  ['key_groups: a mapping', `creation_rules:\n  - path_regex: x\n    key_groups:\n      age: [${A}]\n`, 4, /^creation rule #1: key_groups is a mapping, not a list of groups/],
  ['key_groups: a string', `creation_rules:\n  - path_regex: x\n    key_groups: ${A}\n`, 3, /^creation rule #1: key_groups is a string/],
  ['a key group that is a string', `creation_rules:\n  - path_regex: x\n    key_groups:\n      - ${A}\n`, 4, /^creation rule #1: key group #1 is a string, not a mapping/],
  ['key group age: 5', 'creation_rules:\n  - path_regex: x\n    key_groups:\n      - age: 5\n', 4, /^creation rule #1: key group #1: age is a number \(5\), not a list/],
  ['key group age: a mapping', `creation_rules:\n  - path_regex: x\n    key_groups:\n      - age:\n          admin: ${A}\n`, 5, /key group #1: age is a mapping, not a list/],
  // sops reads a key group's age as []string: the comma-separated form is for a rule's own age only.
  ['key group age: a string', `creation_rules:\n  - path_regex: x\n    key_groups:\n      - age: ${A}\n`, 4, /key group #1: age is a string, not a list/],
  ['key group age: an alias to a list', `keys:\n  - &admins [${A}]\ncreation_rules:\n  - path_regex: x\n    key_groups:\n      - age:\n          - *admins\n`, 7, /key group #1: age: an item is a list, not a recipient string/],
  ['key group kms: a string', 'creation_rules:\n  - path_regex: x\n    key_groups:\n      - kms: arn:aws:kms:x\n', 4, /key group #1: kms is a string, not a list/],
  ['merged key group age: 5', 'creation_rules:\n  - path_regex: x\n    key_groups:\n      - merge:\n          - age: 5\n', 5, /key group #1, merged group #1: age is a number/],
  ['a rule with neither path_regex nor a key', `keys:\n  - &admin ${A}\ncreation_rules:\n  - shamir_threshold: 1\n`, 4, /^creation rule #1 has neither path_regex nor any key$/],
  ['an empty rule', 'creation_rules:\n  - {}\n', 2, /^creation rule #1 has neither path_regex nor any key$/],
  ['a merge key to a scalar', `base: &b x\ncreation_rules:\n  - <<: *b\n    path_regex: x\n`, 3, /merge key \(<<\) must point to a mapping/],
];

for (const [name, text, line, pattern] of BAD) {
  test(`refused: ${name}`, () => {
    const r = checkSopsYaml(text, 'flake/.sops.yaml');
    assert.equal(r.ok, false, `expected a problem for:\n${text}`);
    if (r.ok) return;
    assert.equal(r.problem.file, 'flake/.sops.yaml');
    assert.equal(r.problem.line, line, r.problem.message);
    assert.match(r.problem.message, pattern);
    assert.doesNotMatch(r.problem.message, /\n/);
    assert.ok(r.problem.hint.length > 0 && !r.problem.hint.includes('\n'), r.problem.hint);
  });
}

/** Files sops reads; bootstrap must not refuse them. */
const GOOD: [string, string][] = [
  ['the sops README shape', `keys:\n  - &admin ${A} # me\ncreation_rules:\n  # hosts\n  - path_regex: hosts/.*\n    key_groups:\n    - age:\n      - *admin\n`],
  ['age as a comma-separated string (sops splits it)', `creation_rules:\n  - path_regex: x\n    age: ${A},${B}\n`],
  ['age as a flow list of aliases', `keys:\n  - &a ${A}\n  - &b ${B}\ncreation_rules:\n  - path_regex: x\n    age: [*a, *b]\n`],
  ['a catch-all rule with keys and no path_regex', `creation_rules:\n  - age: ${A}\n`],
  ['a rule with a path_regex and no keys (sops takes them from flags)', 'creation_rules:\n  - path_regex: x\n'],
  ['no creation_rules', `keys:\n  - &a ${A}\n`],
  ['creation_rules: empty', 'keys: []\ncreation_rules:\n'],
  ['keys: empty', `keys:\ncreation_rules:\n  - path_regex: x\n    age: ${A}\n`],
  ['unknown keys (sops ignores them)', `stores:\n  yaml:\n    indent: 2\ndestination_rules: []\ncreation_rules:\n  - path_regex: x\n    age: ${A}\n    mac_only_encrypted: true\n`],
  ['merge keys', `keys:\n  - &a ${A}\ndefaults: &d\n  key_groups:\n    - age: [*a]\ncreation_rules:\n  - <<: *d\n    path_regex: x\n  - <<: *d\n`],
  ['key groups with pgp, kms and a merge', `creation_rules:\n  - path_regex: x\n    shamir_threshold: 2\n    key_groups:\n      - pgp: [FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4]\n        kms:\n          - arn: arn:aws:kms:x\n      - merge:\n          - age: [${A}]\n`],
  ['a flow collection closed at its parent indent (libyaml accepts it)', `creation_rules: [\n  {path_regex: x, age: "${A}"}\n]\n`],
  ['Windows line ends', `keys:\r\n  - &a ${A}\r\ncreation_rules:\r\n  - path_regex: x\r\n    age: [*a]\r\n`],
];

for (const [name, text] of GOOD) {
  test(`accepted: ${name}`, () => {
    const r = checkSopsYaml(text);
    assert.ok(r.ok, r.ok ? '' : `${r.problem.line}: ${r.problem.message}`);
  });
}

test('the usage error: one line, FILE:LINE: what, and a hint saying nothing was written', () => {
  const r = checkSopsYaml('keys: []\ncreation_rules: 5\n', 'nix/.sops.yaml');
  assert.ok(!r.ok);
  const e = sopsYamlError(r.problem);
  assert.ok(isBootstrapError(e));
  assert.equal(e.kind, 'usage');
  assert.equal(e.code, 'invalid-sops-yaml');
  assert.equal(e.message, 'nix/.sops.yaml:2: creation_rules: is a number (5), not a list of rules');
  assert.match(e.hint!, /; nothing was written$/);
  assert.throws(() => parseSopsYaml(''), (x: unknown) => isBootstrapError(x) && x.message === '.sops.yaml: the file is empty');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNewSopsYaml } from './sops-yaml-new.js';
import { matchRule, parseCreationRules, planSopsYaml, ruleMentionsHost } from './sops-yaml.js';

const R = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';
const OTHER = 'age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz';

/** Removing exactly the lines we expect to be added must give back the original, byte for byte. */
function assertOnlyAdded(before: string, after: string, added: string[]): void {
  const lines = after.split('\n');
  for (const a of added) {
    const i = lines.indexOf(a);
    assert.ok(i >= 0, `expected line ${JSON.stringify(a)} in:\n${after}`);
    lines.splice(i, 1);
  }
  assert.equal(lines.join('\n'), before);
}

// Shape 1: the sops-nix README layout, with pgp and age in key_groups and unindented group lists.
const SOPS_NIX = `# This example uses YAML anchors which allows reuse of multiple keys
# without having to repeat yourself.
# Also see https://github.com/Mic92/dotfiles/blob/master/nixos/.sops.yaml
# for a more complex example.
keys:
  - &admin_alice 2504791468b153b8a3963cc97ba53d7b5e5c2c7e
  - &admin_bob age12zlz6lvcdk6eqaewfylg35w0syh58sm7gh53q5vvn7hd7c6nngyseftjxl # bob's laptop
  - &server_azmidi 0fd60c8c3b664aceb1796ce02b318df330331003
creation_rules:
  - path_regex: secrets/[^/]+\\.(yaml|json|env|ini)$
    key_groups:
    - pgp:
      - *admin_alice
      - *server_azmidi
      age:
      - *admin_bob
  - path_regex: secrets/web1/[^/]+\\.(yaml|json|env|ini)$
    key_groups:
    - pgp:
      - *admin_alice
      age:
      - *admin_bob   # admins can always edit
`;

test('sops-nix README shape: anchor and alias added, everything else byte-identical', () => {
  const p = planSopsYaml(SOPS_NIX, { host: 'web1', recipient: R });
  assert.equal(p.changed, true);
  assert.deepEqual(p.rules, ['secrets/web1/[^/]+\\.(yaml|json|env|ini)$']);
  assertOnlyAdded(SOPS_NIX, p.content, [`  - &host_web1 ${R}`, '      - *host_web1']);
  // idempotent
  const again = planSopsYaml(p.content, { host: 'web1', recipient: R });
  assert.equal(again.changed, false);
  assert.equal(again.content, p.content);
});

test('configured extra rules are joined too', () => {
  const p = planSopsYaml(SOPS_NIX, { host: 'web1', recipient: R, extraRules: ['secrets/[^/]+\\.(yaml|json|env|ini)$'] });
  assert.equal(p.rules.length, 2);
  assertOnlyAdded(SOPS_NIX, p.content, [`  - &host_web1 ${R}`, '      - *host_web1', '      - *host_web1']);
});

// Shape 2: Mic92-style, indented key_groups, several rules, a host-specific one, comments between.
const MIC92 = `keys:
  # admins
  - &joerg age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz
  # hosts
  - &eve age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u

creation_rules:
  - path_regex: nixos/eve/secrets/[^/]+\\.yaml$
    key_groups:
      - age:
          - *joerg
          - *eve
  - path_regex: nixos/web1/secrets/[^/]+\\.yaml$
    key_groups:
      - age:
          - *joerg
  - path_regex: nixos/secrets/[^/]+\\.yaml$
    key_groups:
      - age: [*joerg, *eve]
`;

test('Mic92 shape: blank lines and comments kept; flow lists extended in place', () => {
  const p = planSopsYaml(MIC92, { host: 'web1', recipient: R, extraRules: ['nixos/secrets/[^/]+\\.yaml$'] });
  const expected = MIC92.replace(
    `  - &eve age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u\n`,
    `  - &eve age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u\n  - &host_web1 ${R}\n`,
  )
    .replace('          - *joerg\n  - path_regex: nixos/secrets', '          - *joerg\n          - *host_web1\n  - path_regex: nixos/secrets')
    .replace('[*joerg, *eve]', '[*joerg, *eve, *host_web1]');
  assert.equal(p.content, expected);
  assert.equal(planSopsYaml(p.content, { host: 'web1', recipient: R, extraRules: ['nixos/secrets/[^/]+\\.yaml$'] }).changed, false);
});

// Shape 3: plain sops, comma-separated age strings, quoted, folded, no trailing newline.
const PLAIN = `creation_rules:
  - path_regex: hosts/web1/.*\\.yaml$
    age: "age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u"
  - path_regex: hosts/web1/.*\\.env$
    age: >-
      age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u,
      age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz
  - age: age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz`;

test('plain sops shape: literal keys appended to comma strings, keys: section created', () => {
  const p = planSopsYaml(PLAIN, { host: 'web1', recipient: R });
  assert.equal(p.rules.length, 2);
  assert.ok(p.content.startsWith(`keys:\n  - &host_web1 ${R}\ncreation_rules:\n`));
  assert.match(p.content, new RegExp(`6d9ms6r5g6u,${R}"\n`));
  assert.match(p.content, new RegExp(`juvkxz,${R}\n  - age: age17n64`));
  assert.ok(p.content.endsWith('age: age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz'));
  assert.equal(planSopsYaml(p.content, { host: 'web1', recipient: R }).changed, false);
});

test('a rotated host key replaces the anchored value in place', () => {
  const first = planSopsYaml(SOPS_NIX, { host: 'web1', recipient: R }).content;
  const R2 = 'age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u';
  const p = planSopsYaml(first, { host: 'web1', recipient: R2 });
  assert.equal(p.content, first.replace(R, R2));
});

test('no rule names the host and none covers its secrets file: its own rule, first, for the host alone', () => {
  const p = planSopsYaml(SOPS_NIX, { host: 'db2', recipient: R });
  assertOnlyAdded(SOPS_NIX, p.content, [`  - &host_db2 ${R}`, '  - path_regex: hosts/db2/secrets\\.ya?ml$', '    key_groups:', '      - age:', '          - *host_db2']);
  assert.match(p.content, /creation_rules:\n  - path_regex: hosts\/db2\//, 'before the other rules');
  assert.match(p.notes[0]!, /added a creation rule for db2/);
});

test('invalid YAML is a usage error naming the file', () => {
  assert.throws(() => planSopsYaml('keys: [\n', { host: 'a', recipient: R }), /^BootstrapError: \.sops\.yaml:2: YAML syntax error: /);
});

test('helpers: rule matching and new files', () => {
  assert.equal(ruleMentionsHost('secrets/web1/.*', 'web1'), true);
  assert.equal(ruleMentionsHost('secrets/web10/.*', 'web1'), false);
  const fresh = buildNewSopsYaml('web1', R, ['age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz']);
  assert.equal(planSopsYaml(fresh, { host: 'web1', recipient: R }).changed, false);
  const rules = parseCreationRules(MIC92);
  assert.equal(matchRule(rules, 'nixos/web1/secrets/x.yaml'), 'nixos/web1/secrets/[^/]+\\.yaml$');
  assert.equal(matchRule(rules, 'README.md'), undefined);
});

test('a recipient already under keys with another anchor is reused, not listed twice', () => {
  const text = `keys:\n  - &admin ${OTHER}\n  - &orion ${R} # orion's host key\ncreation_rules:\n  - path_regex: hosts/orion/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n`;
  const p = planSopsYaml(text, { host: 'orion', recipient: R });
  assert.equal(p.content, text.replace('          - *admin\n', '          - *admin\n          - *orion\n'));
  assert.doesNotMatch(p.content, /host_orion/);
  assert.deepEqual(p.rules, ['hosts/orion/secrets\\.yaml$']);
  assert.equal(planSopsYaml(p.content, { host: 'orion', recipient: R }).changed, false);
});

test('a recipient listed without an anchor gets one in place', () => {
  const text = `keys:\n  - ${R}\ncreation_rules:\n  - path_regex: hosts/orion/.*\n    age: [${OTHER}]\n`;
  const p = planSopsYaml(text, { host: 'orion', recipient: R });
  assert.equal(p.content, `keys:\n  - &host_orion ${R}\ncreation_rules:\n  - path_regex: hosts/orion/.*\n    age: [${OTHER}, *host_orion]\n`);
});

test('an empty keys: gets the entry below it, keeping its comment (no second keys:)', () => {
  const text = `keys: # hosts are added here\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    age: [${OTHER}]\n`;
  const p = planSopsYaml(text, { host: 'web1', recipient: R });
  assert.equal(p.content, `keys: # hosts are added here\n  - &host_web1 ${R}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    age: [${OTHER}, *host_web1]\n`);
});

test('a malformed file is refused before any edit is planned', () => {
  assert.throws(() => planSopsYaml('keys: []\ncreation_rules: 5\n', { host: 'web1', recipient: R }), /\.sops\.yaml:2: creation_rules: is a number/);
  assert.throws(() => planSopsYaml(`keys:\n  - &a ${R}\n  - &a ${OTHER}\n`, { host: 'web1', recipient: R }), /anchor &a is defined twice/);
});

test('no rule names the host: its own rule goes first, with the keys of the rule that covered its secrets file', async () => {
  const { planSopsYaml } = await import('./sops-yaml.js');
  const { parseDocument } = await import('yaml');
  const A = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';
  const H = 'age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz';
  const text = `# ours\nkeys:\n  - &admin ${A} # me\ncreation_rules:\n  # every host\n  - path_regex: hosts/[^/]+/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n`;
  const plan = planSopsYaml(text, { host: 'web1', recipient: H });
  const js = parseDocument(plan.content).toJS() as { creation_rules: { path_regex: string; key_groups: { age: string[] }[] }[] };
  assert.equal(js.creation_rules[0]!.path_regex, 'hosts/web1/secrets\\.ya?ml$');
  assert.deepEqual(js.creation_rules[0]!.key_groups[0]!.age, [A, H], 'the admins of the rule that covered hosts/web1/secrets.yaml, and the host');
  assert.equal(js.creation_rules[1]!.path_regex, 'hosts/[^/]+/secrets\\.yaml$', 'the generic rule stays, after');
  // A host in a folder of another name: its rule names that folder, escaped.
  const nested = parseDocument(planSopsYaml(text, { host: 'web1', recipient: H, hostDir: 'hosts/servers/web-1.x' }).content).toJS() as typeof js;
  assert.equal(nested.creation_rules[0]!.path_regex, 'hosts/servers/web-1\\.x/secrets\\.ya?ml$');
  assert.ok(new RegExp(nested.creation_rules[0]!.path_regex).test('hosts/servers/web-1.x/secrets.yaml'));
  assert.match(plan.content, /# ours\n[\s\S]*# me\n[\s\S]*# every host\n/, 'comments kept');
  assert.deepEqual(plan.rules, [js.creation_rules[0]!.path_regex]);
  assert.ok(plan.notes.some((n) => /added a creation rule for web1 .* with the keys of "hosts\/\[\^\/\]\+\/secrets\\\.yaml\$"/.test(n)), plan.notes.join('\n'));
  // Registered again: now a rule names it, nothing changes.
  assert.equal(planSopsYaml(plan.content, { host: 'web1', recipient: H }).changed, false);
});

test('a rule for the host behind a broader one is flagged: sops would encrypt its secrets file without the host', () => {
  const A = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';
  const shadowed = `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: .*\\.yaml$\n    age: *admin\n  - path_regex: hosts/web1/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n`;
  const p = planSopsYaml(shadowed, { host: 'web1', recipient: R });
  assert.deepEqual(p.rules, ['hosts/web1/secrets\\.yaml$'], 'the host is still added to its own rule');
  assert.ok(p.notes.some((n) => n.includes('first rule that matches it, ".*\\.yaml$", which does not list web1') && n.includes('move "hosts/web1/secrets\\.yaml$" above it')), p.notes.join('\n'));
  // In the right order: nothing to say.
  const ordered = `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n  - path_regex: .*\\.yaml$\n    age: *admin\n`;
  assert.ok(!planSopsYaml(ordered, { host: 'web1', recipient: R }).notes.some((n) => n.includes('first rule that matches')));
});

test('issue 18: a new file with [sops] rules lists them after the host rule, quoted where YAML needs it, and re-plans unchanged', () => {
  const fresh = buildNewSopsYaml('web1', R, [OTHER], { extraRules: ['secrets/common/.*', "it's: #odd"] });
  assert.deepEqual(parseCreationRules(fresh), ['hosts/web1/secrets\\.ya?ml$', 'secrets/common/.*', "it's: #odd"]);
  const p = planSopsYaml(fresh, { host: 'web1', recipient: R, extraRules: ['secrets/common/.*', "it's: #odd"] });
  assert.equal(p.changed, false);
  assert.deepEqual(p.rules, ['hosts/web1/secrets\\.ya?ml$', 'secrets/common/.*', "it's: #odd"]);
  assert.deepEqual(parseCreationRules(buildNewSopsYaml('web1', R, [], { hostDir: 'machines/web1' })), ['machines/web1/secrets\\.ya?ml$']);
  assert.throws(() => buildNewSopsYaml('web1', R, [], { extraRules: ['('] }), /is not a regular expression sops can use/);
});

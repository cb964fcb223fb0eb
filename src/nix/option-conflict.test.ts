import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFlakeRelative, describeOptionConflict, parseOptionConflict } from './option-conflict.js';

// nix 2.2x, as `nix build` of a flake prints it: a trace first, store paths of the flake's source.
const NEWER = `warning: Git tree '/home/alice/infra' is dirty
error:
       … while calling the 'head' builtin
         at /nix/store/0fbfnx3nvbnxd3zv7hmxq6vq37jkfcx8-source/lib/attrsets.nix:1575:13:

       error: The option \`services.openssh.settings.PermitRootLogin' has conflicting definition values:
       - In \`/nix/store/7n2m2y6hzd1rb9nm3y2l4lq0x3c9v1bz-source/hosts/web1': "prohibit-password"
       - In \`/nix/store/7n2m2y6hzd1rb9nm3y2l4lq0x3c9v1bz-source/modules/policy.nix': "no"
       Use \`lib.mkForce value\` or \`lib.mkDefault value\` to change the priority on any of these definitions.`;

test('the conflict in a newer nix error: option, files relative to the flake (a folder module is its default.nix), the line to delete', () => {
  const c = parseOptionConflict(NEWER)!;
  assert.deepEqual(c, { option: 'services.openssh.settings.PermitRootLogin', definitions: [{ file: 'hosts/web1', value: '"prohibit-password"' }, { file: 'modules/policy.nix', value: '"no"' }] });
  const d = describeOptionConflict(c, 'hosts/web1/default.nix');
  assert.equal(d.message, 'option services.openssh.settings.PermitRootLogin is set twice with different values: hosts/web1/default.nix sets "prohibit-password", modules/policy.nix sets "no"');
  assert.match(d.hint, /^in hosts\/web1\/default\.nix, delete the line `PermitRootLogin = …;` of services\.openssh\.settings\.PermitRootLogin \(bootstrap's starting value\), so modules\/policy\.nix's "no" applies/);
});

test('two user modules: keep one with lib.mkForce; secrets are not repeated; no conflict, no result', () => {
  const text = "error: The option `time.timeZone' has conflicting definition values:\n       - In `/home/a/flake/a.nix': \"UTC\"\n       - In `/home/a/flake/b.nix': \"Europe/Berlin\"\n";
  const c = parseOptionConflict(text, '/home/a/flake')!;
  assert.deepEqual(c.definitions.map((d) => d.file), ['a.nix', 'b.nix']);
  assert.match(describeOptionConflict(c, 'hosts/web1/default.nix').hint, /^keep one: in a\.nix, write `time\.timeZone = lib\.mkForce "UTC";`/);
  const secret = parseOptionConflict("error: The option `users.users.root.hashedPassword' has conflicting definition values:\n - In `/x/a.nix': \"$6$abc\"\n - In `/x/b.nix': \"$6$def\"\n")!;
  assert.deepEqual(secret.definitions.map((d) => d.value), ['', '']);
  assert.equal(parseOptionConflict('error: attribute \'disko\' missing'), undefined);
  assert.equal(buildFlakeRelative('/etc/nixos/x.nix'), '/etc/nixos/x.nix');
});

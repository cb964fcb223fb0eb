import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFlakeHint, isHostPickedUp } from './flake-hint.js';

test('a flake picks up a host by path or by reading the hosts directory', () => {
  assert.equal(isHostPickedUp('modules = [ ./hosts/web1 ];', 'hosts', 'web1'), true);
  assert.equal(isHostPickedUp('modules = [ ./hosts/web1/default.nix ];', 'hosts', 'web1'), true);
  assert.equal(isHostPickedUp('modules = [ ./hosts/web10 ];', 'hosts', 'web1'), false);
  assert.equal(isHostPickedUp('modules = [ ./myhosts/web1 ];', 'hosts', 'web1'), false);
  assert.equal(isHostPickedUp('builtins.readDir ./hosts', 'hosts', 'web1'), true);
  assert.equal(isHostPickedUp('lib.attrNames (builtins.readDir (self + "/hosts"))', 'hosts', 'web1'), true);
  assert.equal(isHostPickedUp('builtins.readDir ./hostsold', 'hosts', 'web1'), false);
  assert.equal(isHostPickedUp('{ outputs = _: { }; }', 'hosts', 'web1'), false);
  assert.equal(isHostPickedUp('imports = [ ./machines/db ];', './machines/', 'db'), true);
});

test('the hint adds disko only when the flake lacks it', () => {
  const without = buildFlakeHint('{ }', 'hosts', 'web1');
  assert.ok(without.includes('disko.url = "github:nix-community/disko";'));
  assert.ok(without.includes('    ./hosts/web1'));
  const withDisko = buildFlakeHint('inputs.disko.url = "github:nix-community/disko";', 'hosts', 'web1');
  assert.ok(!withDisko.some((l) => l.includes('disko.url')));
  assert.equal(withDisko[1], 'nixosConfigurations.web1 = nixpkgs.lib.nixosSystem {');
});

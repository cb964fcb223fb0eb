import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFlakeHint } from './flake-hint.js';
import { buildPickupApply, parsePickup } from './flake-pickup.js';

test('the hint adds disko only when the flake lacks it', () => {
  const without = buildFlakeHint('{ }', 'hosts', 'web1');
  assert.ok(without.includes('disko.url = "github:nix-community/disko";'));
  assert.ok(without.includes('    ./hosts/web1'));
  const withDisko = buildFlakeHint('inputs.disko.url = "github:nix-community/disko";', 'hosts', 'web1');
  assert.ok(!withDisko.some((l) => l.includes('disko.url')));
  assert.equal(withDisko[1], 'nixosConfigurations.web1 = nixpkgs.lib.nixosSystem {');
});

test('parsePickup: files of the module graph, from the store copy or the local copy, inside the host folder only', () => {
  const store = '/nix/store/0fbfnx3nvbnxd3zv7hmxq6vq37jkfcx8-source';
  assert.deepEqual(parsePickup(JSON.stringify([`${store}/configuration.nix`, `${store}/hosts/web1`]), 'hosts/web1', '/tmp/c'), { kind: 'yes' });
  assert.deepEqual(parsePickup(JSON.stringify(['/tmp/c/hosts/web1/default.nix']), 'hosts/web1', '/tmp/c'), { kind: 'yes' });
  assert.deepEqual(parsePickup(JSON.stringify([`${store}/infra/hosts/web1`]), 'hosts/web1', '/tmp/c'), { kind: 'yes' }, 'a flake in a sub-folder of its repository');
  assert.deepEqual(parsePickup(JSON.stringify([`${store}/hosts/web10`, `${store}/myhosts/web1`]), 'hosts/web1', '/tmp/c'), { kind: 'no', why: 'not-imported' });
  assert.deepEqual(parsePickup('null', 'hosts/web1', '/tmp/c'), { kind: 'no', why: 'no-configuration' });
  assert.equal(parsePickup('false', 'hosts/web1', '/tmp/c').kind, 'unknown');
  assert.match(buildPickupApply('web1'), /^cs: if !\(builtins\.hasAttr "web1" cs\) then null else /);
});

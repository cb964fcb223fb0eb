import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNixpkgsRelease } from './flake-lock-release.js';

const lock = (ref: unknown, extra: object = {}) =>
  JSON.stringify({ nodes: { root: { inputs: { nixpkgs: 'nixpkgs', ...extra } }, nixpkgs: { locked: { type: 'github' }, original: { owner: 'NixOS', repo: 'nixpkgs', ref, type: 'github' } } }, root: 'root', version: 7 });

test('the pinned NixOS release from flake.lock', () => {
  assert.equal(parseNixpkgsRelease(lock('nixos-25.11')), '25.11');
  assert.equal(parseNixpkgsRelease(lock('nixos-24.05-small')), '24.05');
  assert.equal(parseNixpkgsRelease(lock('release-25.05')), '25.05');
  for (const ref of ['nixos-unstable', 'master', undefined, 5]) assert.equal(parseNixpkgsRelease(lock(ref)), undefined, String(ref));
  for (const bad of ['', '{', 'null', '[]', '{"nodes":{"root":{"inputs":{"nixpkgs":"constructor"}}}}']) assert.equal(parseNixpkgsRelease(bad), undefined, bad);
  // nixpkgs following another input's nixpkgs
  const follows = JSON.stringify({ nodes: { root: { inputs: { nixpkgs: ['srvos', 'nixpkgs'], srvos: 'srvos' } }, srvos: { inputs: { nixpkgs: 'nixpkgs_2' } }, nixpkgs_2: { original: { ref: 'nixos-25.11' } } }, root: 'root' });
  assert.equal(parseNixpkgsRelease(follows), '25.11');
});

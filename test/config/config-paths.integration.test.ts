/** Paths in bootstrap.toml stay inside the flake: an absolute or escaping path is a one-line usage error, read before any write. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInsideFlake } from '../../src/config/flake-path.js';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

test('isInsideFlake: relative paths that stay inside', () => {
  for (const ok of ['hosts', '.bootstrap', 'secrets/bootstrap', 'a/../b', './state']) assert.equal(isInsideFlake(ok), true, ok);
  for (const bad of ['', '.', '/tmp/x', '~/x', '..', '../x', 'a/../../x', 'a\\b', 'x\0y']) assert.equal(isInsideFlake(bad), false, JSON.stringify(bad));
});

test('stateDir, hostsDir and [secrets.local] dir outside the flake are refused, nothing written', async () => {
  for (const [toml, key] of [
    ['stateDir = "/tmp/elsewhere"\n', 'stateDir'],
    ['hostsDir = "../other-flake/hosts"\n', 'hostsDir'],
    ['[secrets.local]\ndir = "/root/vault"\n', 'secrets.local.dir'],
  ] as const) {
    await withTempDir(async (dir) => {
      writeFileSync(join(dir, 'flake.nix'), '{ }\n');
      writeFileSync(join(dir, 'bootstrap.toml'), toml);
      const r = await runCli(['keys', 'ensure', 'web1', '--flake', dir]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${key.replace(/\./g, '\\.')}.*relative path inside the flake`));
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.deepEqual(readdirSync(dir).sort(), ['bootstrap.toml', 'flake.nix']);
    });
  }
});

test('probe --out into a missing directory is bad input (exit 2), refused before probing', async () => {
  await withTempDir(async (dir) => {
    const r = await runCli(['probe', '--from-facter', join(dir, 'nope.json'), '--out', join(dir, 'missing/report.json')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--out .*the directory .*missing does not exist/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

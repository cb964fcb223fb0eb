import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { withTempDir } from './helpers/tmp.js';

test('doctor reports tools found on PATH and exits 0 when nothing required is missing', async () => {
  const r = await runCli(['doctor', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
  assert.equal(out.ok, true);
  assert.equal(out.checks.find((c) => c.name === 'ssh')?.status, 'ok');
  assert.equal(out.checks.find((c) => c.name === 'age')?.status, 'ok');
});

test('doctor says what is missing and how to fix it when ssh is not on PATH', async () => {
  await withTempDir(async (dir) => {
    // A PATH with only a fake `nix` (prints a version), no ssh, no nixos-anywhere.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'nix'), '#!/bin/sh\necho "nix (Nix) 2.99-fake"\n');
    chmodSync(join(bin, 'nix'), 0o755);
    const r = await runCli(['doctor', '--flake', dir], { env: { PATH: bin } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /MISSING\s+ssh\s+not found on PATH/);
    assert.match(r.stdout, /fix: install OpenSSH/);
    assert.match(r.stdout, /nixos-anywhere\s+not on PATH; will run through `nix run/);
    assert.match(r.stderr, /required check\(s\) failed/);
  });
});

test('doctor names the bad key of an invalid bootstrap.toml', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'bootstrap.toml'), '[secrets]\nstore = "local"\nbogus = 1\n');
    const r = await runCli(['doctor', '--flake', dir, '--json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] };
    const cfg = out.checks.find((c) => c.name === 'bootstrap.toml')!;
    assert.equal(cfg.status, 'missing');
    assert.match(cfg.detail, /unknown key secrets\.bogus/);
  });
});

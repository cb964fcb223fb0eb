/** The install commands' bad input: one line, the right exit code, nothing written, no stack trace. */
import '../helpers/fake-nix-path.js';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at /);

test('new-host outside a flake says so and writes nothing', async () => {
  await withTempDir(async (dir) => {
    const r = await runCli(['new-host', 'web1', '--target', 'root@127.0.0.1:1', '--flake', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /has no flake\.nix/);
    assert.match(r.stderr, /--flake DIR/);
    noStack(r.stderr);
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('new-host without a terminal names the flag for each missing answer', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'flake.nix'), '{ }\n');
    const r = await runCli(['new-host', '--flake', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no answer for "Host name/);
    assert.match(r.stderr, /pass HOST/);
    const r2 = await runCli(['new-host', 'web1', '--flake', dir]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /pass --target/);
    noStack(r2.stderr);
  });
});

test('a bad answers file is a one-line error naming the key', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'flake.nix'), '{ }\n');
    writeFileSync(join(dir, 'a.toml'), 'host = "web1"\ntraget = "root@h"\n');
    const r = await runCli(['new-host', '--answers', join(dir, 'a.toml'), '--flake', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /a\.toml: unknown key traget/);
    writeFileSync(join(dir, 'b.json'), '{"host": "web1",');
    const r2 = await runCli(['new-host', '--answers', join(dir, 'b.json'), '--flake', dir]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /b\.json is not valid JSON/);
    noStack(r.stderr + r2.stderr);
  });
});

test('rebuild of a host without a manifest, and --resume with nothing to resume', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'flake.nix'), '{ }\n');
    const r = await runCli(['rebuild', 'web9', '--yes', '--flake', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /hosts\/web9\/bootstrap\.toml does not exist/);
    const r2 = await runCli(['new-host', 'web9', '--resume', '--flake', dir]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /no earlier run of web9 to resume/);
    const r3 = await runCli(['rebuild', '--hosts', 'a,,b,a', '--flake', dir]);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /names a host twice/);
    assert.ok(!existsSync(join(dir, '.bootstrap/state/web9')));
    noStack(r.stderr + r2.stderr + r3.stderr);
  });
});

test('bad installer settings are refused before any connection, in flags and answers files', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'flake.nix'), '{ }\n');
    // Port 1 on loopback: a connection attempt would fail differently (refused, exit 1).
    const cases: [string[], RegExp][] = [
      [['--phase-timeout', 'kexec=soon'], /timeout of phase kexec must be a duration/],
      [['--phase-timeout', 'kexex=10m'], /no install phase "kexex"/],
      [['--phase-timeout', 'install'], /--phase-timeout takes PHASE=DURATION/],
      [['--post-kexec-port', '70000'], /post-kexec-port/],
    ];
    for (const [flags, re] of cases) {
      const r = await runCli(['new-host', 'web1', '--target', 'root@127.0.0.1:1', ...flags, '--flake', dir]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('error:')).length, 1);
      noStack(r.stderr);
    }
    writeFileSync(join(dir, 'a.toml'), 'host = "web1"\ntarget = "root@127.0.0.1:1"\nphaseTimeouts = { install = "100h" }\n');
    const r = await runCli(['new-host', '--answers', join(dir, 'a.toml'), '--flake', dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /timeout of phase install must be a duration from 1s to 48h/);
    assert.deepEqual(readdirSync(dir).sort(), ['a.toml', 'flake.nix'], 'nothing written');
  });
});

test('a .sops.yaml bootstrap cannot extend stops new-host and rebuild before the target is reached or a file written', async () => {
  const { snapshotTree } = await import('../helpers/tree-snapshot.js');
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'flake.nix'), '{ }\n');
    writeFileSync(join(dir, '.sops.yaml'), 'keys:\n  - &admin age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\ncreation_rules: 5\n');
    const before = snapshotTree(dir);
    // Port 1 on loopback: nothing listens, so a run that got as far as the probe would fail differently.
    const r = await runCli(['new-host', 'web1', '--target', 'root@127.0.0.1:1', '--flake', dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\.sops\.yaml.*creation_rules/);
    assert.doesNotMatch(r.stderr, /127\.0\.0\.1/);
    noStack(r.stderr);
    assert.deepEqual(snapshotTree(dir), before);
  });
});

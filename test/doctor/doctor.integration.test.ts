import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

test('doctor reports tools found on PATH and exits 0 when nothing required is missing', async () => {
  await withTempDir(async (dir) => {
  const { execFileSync } = await import('node:child_process');
  execFileSync('age-keygen', ['-o', join(dir, 'keys.txt')], { stdio: 'ignore' });
  const r = await runCli(['doctor', '--json', '--flake', dir], { env: { BOOTSTRAP_AGE_IDENTITY: join(dir, 'keys.txt') } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
  assert.equal(out.ok, true);
  assert.equal(out.checks.find((c) => c.name === 'ssh')?.status, 'ok');
  assert.equal(out.checks.find((c) => c.name === 'age')?.status, 'ok');
  assert.equal(out.checks.find((c) => c.name === 'secret store (local)')?.status, 'ok');
  });
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

test('doctor checks the secret store and that S3 endpoints are reachable', async () => {
  await withTempDir(async (dir) => {
    const { createServer } = await import('node:net');
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      writeFileSync(
        join(dir, 'bootstrap.toml'),
        `[storage.up]\nprovider = "custom"\nbucket = "bucket-up"\nregion = "us-east-1"\nendpoint = "http://127.0.0.1:${port}"\n\n` +
          `[storage.down]\nprovider = "custom"\nbucket = "bucket-down"\nregion = "us-east-1"\nendpoint = "http://127.0.0.1:1"\n`,
      );
      // No age identity anywhere: the local vault needs setup, which is a required failure.
      const r = await runCli(['doctor', '--flake', dir, '--json'], { env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'cfg'), BOOTSTRAP_AGE_IDENTITY: undefined } });
      const out = JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string; fix?: string }[] };
      const store = out.checks.find((c) => c.name === 'secret store (local)')!;
      assert.equal(store.status, 'missing');
      assert.match(store.fix ?? '', /age-keygen/);
      assert.equal(out.checks.find((c) => c.name === 'storage.up')?.status, 'ok');
      const down = out.checks.find((c) => c.name === 'storage.down')!;
      assert.equal(down.status, 'warn');
      assert.match(down.detail, /not reachable/);
      assert.equal(r.code, 1);
    } finally {
      server.close();
    }
  });
});

test('doctor warns when .bootstrap/ is not git-ignored in a git flake, and is quiet once it is', async () => {
  await withTempDir(async (dir) => {
    mkdirSync(join(dir, '.git'));
    const first = JSON.parse((await runCli(['doctor', '--flake', dir, '--json'])).stdout) as { checks: { name: string; status: string; fix?: string }[] };
    const warn = first.checks.find((c) => c.name === 'git-ignore')!;
    assert.equal(warn.status, 'warn');
    assert.match(warn.fix ?? '', /\/\.bootstrap\/' >> /);
    writeFileSync(join(dir, '.gitignore'), 'result\n/.bootstrap/\n');
    const second = JSON.parse((await runCli(['doctor', '--flake', dir, '--json'])).stdout) as { checks: { name: string; status: string }[] };
    assert.equal(second.checks.find((c) => c.name === 'git-ignore')?.status, 'ok');
  });
});

test('doctor wipes the secret directory of a killed run (owner gone) and leaves a live run\'s alone', async () => {
  const { mkdirSync, writeFileSync, existsSync } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  await withTempDir(async (dir) => {
    const runtime = join(dir, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    const make = (name: string, pid: number) => {
      const d = join(runtime, name);
      mkdirSync(d, { mode: 0o700 });
      writeFileSync(join(d, 'owner.json'), JSON.stringify({ pid, createdAt: new Date(Date.now() - 7_200_000).toISOString() }));
      writeFileSync(join(d, 'disk-encryption.key'), 'a-passphrase');
      return d;
    };
    const killed = make('nb-install-killed', deadPid);
    const live = make('nb-install-live', process.pid);
    writeFileSync(join(dir, 'flake.nix'), '{ }\n');
    const r = await runCli(['doctor', '--flake', dir, '--json'], { env: { XDG_RUNTIME_DIR: runtime, BOOTSTRAP_AGE_IDENTITY: join(dir, 'keys.txt') } });
    const check = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === 'leftover secrets');
    assert.equal(check?.status, 'warn', r.stdout);
    assert.match(check!.detail, new RegExp(`wiped 1 secret directory left by killed runs: ${killed} \\(2 h old\\)`));
    assert.ok(!existsSync(killed));
    assert.ok(existsSync(live));
  });
});

/** A PATH with a fake `nix` printing `version` (doctor only asks it for --version) and ssh. */
function fakeNixBin(dir: string, version: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'nix'), `#!/bin/sh\necho "nix (Nix) ${version}"\n`);
  chmodSync(join(bin, 'nix'), 0o755);
  return bin;
}

test('doctor flags a nix older than 2.16 (Debian nix-bin 2.8) with a hint, and names the pinned nixos-anywhere for a recent one', async () => {
  await withTempDir(async (dir) => {
    const old = fakeNixBin(join(dir, 'old'), '2.8.0');
    let r = await runCli(['doctor', '--json', '--flake', dir], { env: { PATH: `${old}:/usr/bin:/bin` } });
    let checks = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string; fix?: string }[] }).checks;
    const nix = checks.find((c) => c.name === 'nix')!;
    assert.equal(nix.status, 'warn');
    assert.match(nix.detail, /nix 2\.8\.0 .* older than 2\.16/);
    assert.match(nix.fix ?? '', /nix-bin is 2\.8/);
    assert.match(checks.find((c) => c.name === 'nixos-anywhere')!.detail, /cannot run the pinned 1\.13\.0-98-g91fc9b7/);

    const recent = fakeNixBin(join(dir, 'new'), '2.24.10');
    r = await runCli(['doctor', '--json', '--flake', dir], { env: { PATH: `${recent}:/usr/bin:/bin` } });
    checks = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
    assert.equal(checks.find((c) => c.name === 'nix')!.status, 'ok');
    const na = checks.find((c) => c.name === 'nixos-anywhere')!;
    assert.equal(na.status, 'ok');
    assert.match(na.detail, /nix run github:nix-community\/nixos-anywhere\/91fc9b70fc295258c366cce8627efb6f185fd9fb/);
  });
});

test('doctor warns when the nixos-anywhere on PATH is a store path of another version than the pinned one', async () => {
  await withTempDir(async (dir) => {
    const bin = fakeNixBin(dir, '2.24.10');
    // Laid out like a Nix store path, which is where the version of an installed nixos-anywhere shows.
    const pkg = join(dir, 'nix/store', `${'a'.repeat(32)}-nixos-anywhere-1.9.0`, 'bin');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'nixos-anywhere'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(pkg, 'nixos-anywhere'), 0o755);
    symlinkSync(join(pkg, 'nixos-anywhere'), join(bin, 'nixos-anywhere'));
    const r = await runCli(['doctor', '--json', '--flake', dir], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    const na = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string; fix?: string }[] }).checks.find((c) => c.name === 'nixos-anywhere')!;
    assert.equal(na.status, 'warn');
    assert.match(na.detail, /1\.9\.0, not the tested 1\.13\.0-98-g91fc9b7/);
    assert.match(na.fix ?? '', /remove it from PATH/);
  });
});

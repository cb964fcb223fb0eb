/**
 * Host key pinning through the CLI (`bootstrap probe`) against a real sshd on 127.0.0.1:
 * --host-key right and wrong, first contact without a terminal, --accept-new-host-key pinning into
 * the flake's .bootstrap/known_hosts, and a key swapped between two connections.
 */
import '../helpers/fake-nix-path.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { useSshdLab } from '../helpers/sshd.js';

let n = 0;
const lab = useSshdLab('nb-hostkeys-');

/** A fresh flake directory (--flake) with its own HOME, so no pin leaks between tests. */
function flake(): string {
  const d = join(lab.dir, `flake${n++}`);
  mkdirSync(join(d, 'home'), { recursive: true });
  return d;
}
const probe = (dir: string, ...extra: string[]): Promise<CliResult> =>
  runCli(['probe', lab.sshd.target, '-i', lab.sshd.clientKeyPath, '--json', '--flake', dir, ...extra], { env: { HOME: join(dir, 'home'), SSH_AUTH_SOCK: undefined } });

function assertOneLineError(r: CliResult): string {
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, r.stderr);
  return errors[0]!;
}

test('--host-key with the right fingerprint probes and pins', async () => {
  const dir = flake();
  const r = await probe(dir, '--host-key', lab.sshd.fingerprint);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).source, 'probe');
  assert.match(readFileSync(join(dir, '.bootstrap', 'known_hosts'), 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${lab.sshd.port} ssh-ed25519 `));
});

test('--host-key with a wrong fingerprint is refused, exit 1', async () => {
  const dir = flake();
  const wrong = 'SHA256:' + 'x'.repeat(43);
  const r = await probe(dir, '--host-key', wrong);
  assert.equal(r.code, 1);
  const line = assertOneLineError(r);
  assert.ok(line.includes(wrong) && line.includes(lab.sshd.fingerprint), line);
  assert.match(line, /not the pinned/);
  // Under --json the same error is the document on stdout, for scripts.
  assert.deepEqual((JSON.parse(r.stdout) as { ok: boolean; error: { code: string } }).error.code, 'host-key-mismatch');
  assert.equal(existsSync(join(dir, '.bootstrap', 'known_hosts')), false);
});

test('first contact without a terminal and without flags: exit 2, the fingerprint and the flags to pass', async () => {
  const r = await probe(flake());
  assert.equal(r.code, 2);
  const line = assertOneLineError(r);
  assert.ok(line.includes(lab.sshd.fingerprint), line);
  assert.match(r.stderr, /hint: .*--host-key SHA256:.*--accept-new-host-key/);
});

test('--accept-new-host-key pins into .bootstrap/known_hosts; the next run needs no flag; a swapped key is refused', async () => {
  const dir = flake();
  const first = await probe(dir, '--accept-new-host-key');
  assert.equal(first.code, 0, first.stderr);
  const pins = readFileSync(join(dir, '.bootstrap', 'known_hosts'), 'utf8');
  assert.ok(pins.includes(`[127.0.0.1]:${lab.sshd.port} ssh-ed25519 `));

  const second = await probe(dir);
  assert.equal(second.code, 0, second.stderr);

  const oldFp = lab.sshd.fingerprint;
  await lab.sshd.restartWithHostKey();
  const swapped = await probe(dir);
  assert.equal(swapped.code, 1);
  const line = assertOneLineError(swapped);
  assert.ok(line.includes(oldFp) && line.includes(lab.sshd.fingerprint), `names both fingerprints: ${line}`);
  assert.ok(line.includes(join(dir, '.bootstrap', 'known_hosts')), 'says where the old key is recorded');
  assert.match(swapped.stderr, /hint: .*--host-key SHA256:/);
  assert.equal(readFileSync(join(dir, '.bootstrap', 'known_hosts'), 'utf8'), pins, 'the pin is unchanged');

  // The documented way forward: pin the new key explicitly.
  const repinned = await probe(dir, '--host-key', lab.sshd.fingerprint);
  assert.equal(repinned.code, 0, repinned.stderr);
  assert.ok(!readFileSync(join(dir, '.bootstrap', 'known_hosts'), 'utf8').includes(pins.split(' ')[2]!.trim()));
});

test('a flake with its own stateDir: probe and plan --target pin there, where verify and status read, never into .bootstrap', async () => {
  const dir = flake();
  writeFileSync(join(dir, 'flake.nix'), '{ outputs = { ... }: { }; }\n');
  writeFileSync(join(dir, 'bootstrap.toml'), 'stateDir = "var/nb"\n');
  const r = await probe(dir, '--accept-new-host-key');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(join(dir, 'var/nb/known_hosts'), 'utf8').includes(`[127.0.0.1]:${lab.sshd.port} ssh-ed25519 `));
  assert.equal(existsSync(join(dir, '.bootstrap')), false, 'no second pin file');

  const other = flake();
  writeFileSync(join(other, 'flake.nix'), '{ outputs = { ... }: { }; }\n');
  writeFileSync(join(other, 'bootstrap.toml'), 'stateDir = "var/nb"\n');
  const plan = await runCli(['plan', 'web1', '--target', lab.sshd.target, '-i', lab.sshd.clientKeyPath, '--accept-new-host-key', '--profile', 'generic-kvm-vps', '--layout', 'single-ext4', '--login-key', `${lab.sshd.clientKeyPath}.pub`, '--flake', other], { env: { HOME: join(other, 'home'), SSH_AUTH_SOCK: undefined } });
  assert.equal(plan.code, 0, plan.stderr);
  assert.ok(readFileSync(join(other, 'var/nb/known_hosts'), 'utf8').includes(`[127.0.0.1]:${lab.sshd.port} ssh-ed25519 `));
  assert.equal(existsSync(join(other, '.bootstrap')), false, 'no second pin file');
});

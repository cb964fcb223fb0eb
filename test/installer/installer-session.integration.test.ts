/**
 * The installer call's machinery with real processes: the ssh guard against a REAL sshd (a key
 * that is not pinned gets nothing through), and the session's phase tracking, per-phase deadline
 * and stop-on-guard-record against a small scripted stand-in for nixos-anywhere (a FAKE: it only
 * prints the real script's `### … ###` lines and waits; the real script runs in the e2e tests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '../../src/ports/output.js';
import { isBootstrapError } from '../../src/errors.js';
import { runCommand } from '../../src/exec/run.js';
import { InstallerSession, type SessionOptions } from '../../src/installer/installer-session.js';
import { buildLogPath, openInstallLog, PhaseFailed } from '../../src/installer/run-phases.js';
import { buildGuardPins, buildPinNames, prepareSshGuard } from '../../src/installer/ssh-guard.js';
import { parsePublicKeyLine } from '../../src/installer/wait-host-key.js';
import { PHASES } from '../../src/nix/nixos-anywhere.js';
import { startSshd } from '../helpers/sshd.js';
import { withTempDir } from '../helpers/tmp.js';

const REAL_SSH = execFileSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim();
const quiet: Task = { update: () => {}, done: () => {}, fail: () => {} };

test('ssh guard: the pinned key gets through; another key fails the handshake, runs nothing and is recorded', async () => {
  await withTempDir(async (dir) => {
    const sshd = await startSshd();
    try {
      const pinned = parsePublicKeyLine(readFileSync(`${sshd.hostKeyPath}.pub`, 'utf8'));
      const guard = await prepareSshGuard(join(dir, 'guard'), { realSsh: REAL_SSH, pins: buildGuardPins(buildPinNames('127.0.0.1', [sshd.port]), [pinned]), path: process.env.PATH });
      // What nixos-anywhere does: its own "accept anything" options, which the guard must outrank.
      const ssh = (marker: string) =>
        runCommand(['ssh', '-p', String(sshd.port), '-i', sshd.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'BatchMode=yes', 'root@127.0.0.1', `touch ${marker}; echo ran`], {
          env: guard.env,
          check: false,
        });
      const ok = await ssh(join(dir, 'ok'));
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), 'ran');
      assert.deepEqual(await guard.events(), []);

      await sshd.restartWithHostKey(); // a machine in the middle, or a reinstalled one
      const bad = await ssh(join(dir, 'bad'));
      assert.equal(bad.code, 255);
      assert.equal(existsSync(join(dir, 'bad')), false, 'nothing ran over the unpinned connection');
      const events = await guard.events();
      assert.equal(events.length, 1);
      assert.equal(events[0]!.presented, sshd.fingerprint, 'the presented key is named');
      assert.notEqual(events[0]!.presented, pinned.fingerprint);
    } finally {
      await sshd.stop();
    }
  });
});

test('ssh guard: counts what each connection sent (OpenSSH\'s counter) and keeps the VERBOSE lines out of the installer\'s stderr', async () => {
  await withTempDir(async (dir) => {
    const sshd = await startSshd();
    try {
      const pinned = parsePublicKeyLine(readFileSync(`${sshd.hostKeyPath}.pub`, 'utf8'));
      const guard = await prepareSshGuard(join(dir, 'guard'), { realSsh: REAL_SSH, pins: buildGuardPins(buildPinNames('127.0.0.1', [sshd.port]), [pinned]), path: process.env.PATH });
      const before = Date.now();
      const r = await runCommand(['ssh', '-p', String(sshd.port), '-i', sshd.clientKeyPath, '-o', 'BatchMode=yes', 'root@127.0.0.1', 'wc -c; echo to-stderr >&2'], { env: guard.env, input: 'x'.repeat(200_000), check: false });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '200000');
      assert.equal(r.stderr, 'to-stderr\n', 'the remote stderr passes; ssh\'s Authenticated/Transferred/Bytes per second lines do not');
      const [t, ...more] = await guard.transfers();
      assert.equal(more.length, 0);
      assert.ok(t!.sent > 200_000 && t!.sent < 230_000, `sent ${t!.sent}: the 200 kB plus the SSH handshake and framing`);
      assert.ok(t!.received > 0 && t!.endedAtMs >= before - 5 && t!.endedAtMs <= Date.now() + 5);
      // A connection that never got up sends nothing worth a record.
      await runCommand(['ssh', '-p', '1', '-o', 'BatchMode=yes', 'root@127.0.0.1', 'true'], { env: guard.env, check: false });
      assert.equal((await guard.transfers()).length, 1);
    } finally {
      await sshd.stop();
    }
  });
});

/** A stand-in installer: prints the real script's step lines for the requested phases. */
function scriptedInstaller(dir: string, body: string): string {
  const path = join(dir, 'installer.sh');
  writeFileSync(path, `#!/usr/bin/env bash\nset -e\nstep() { echo "### $* ###"; }\n${body}\n`, { mode: 0o755 });
  return path;
}

function sessionOptions(dir: string, argv: string[], o: Partial<SessionOptions> = {}): SessionOptions {
  return {
    argv,
    env: {},
    phases: PHASES,
    timeoutsMs: { kexec: 10_000, disko: 10_000, install: 10_000, reboot: 10_000 },
    wait: { user: 'root', host: '203.0.113.7', port: 2222, postKexecPort: 22 },
    log: openInstallLog(buildLogPath(dir, 'web1', new Date())),
    guardEvents: async () => [],
    pinned: ['SHA256:pinnedpinnedpinnedpinnedpinnedpinnedpinned00'],
    guardPollMs: 50,
    ...o,
  };
}

test('session: each phase ends when the script moves past it; all end when it exits 0', async () => {
  await withTempDir(async (dir) => {
    const script = scriptedInstaller(dir, `step Uploading install SSH keys\nstep Switching system into kexec\nsleep 0.2\nstep Formatting hard drive with disko\nsleep 0.2\nstep Installing NixOS\nstep Rebooting\nstep Done!`);
    const s = new InstallerSession({ run: runCommand, signal: new AbortController().signal, debug: () => {} }, sessionOptions(dir, [script]));
    const order: string[] = [];
    s.start();
    await Promise.all(PHASES.map((p) => s.phase(p, quiet).then(() => order.push(p))));
    assert.deepEqual(order, ['kexec', 'disko', 'install', 'reboot']);
  });
});

test('session: a phase past its deadline stops the whole process group with the likely cause', async () => {
  await withTempDir(async (dir) => {
    const pidFile = join(dir, 'child.pid');
    // Like the real script after kexec: a wait loop with a child that would outlive a plain kill.
    const script = scriptedInstaller(dir, `step Uploading install SSH keys\nstep Switching system into kexec\necho "ssh: connect to host 203.0.113.7 port 22: Connection refused" >&2\nsleep 60 & echo $! > ${pidFile}\nwait`);
    const o = sessionOptions(dir, [script], { timeoutsMs: { kexec: 700, disko: 10_000, install: 10_000, reboot: 10_000 } });
    const s = new InstallerSession({ run: runCommand, signal: new AbortController().signal, debug: () => {} }, o);
    s.start();
    const started = Date.now();
    await assert.rejects(s.phase('kexec', quiet), (e) => {
      assert.ok(isBootstrapError(e) && e.code === 'phase-timeout', String(e));
      assert.match(e.message, /phase kexec ran out of time .* waiting for SSH on 203\.0\.113\.7:22 after kexec \(last: ssh: connect to host 203\.0\.113\.7 port 22: Connection refused\)/);
      assert.match(e.hint ?? '', /--post-kexec-port/);
      assert.match(e.hint ?? '', /--resume/);
      return true;
    });
    await assert.rejects(s.phase('disko', quiet), (e) => isBootstrapError(e) && e.code === 'phase-timeout');
    assert.ok(Date.now() - started < 8_000, 'stopped promptly');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!isAlive(pid), 'the background child of the script was killed with its group');
    o.log.close();
    assert.match(readFileSync(o.log.path, 'utf8'), /phase kexec timed out/);
  });
});

test('session: a guard record stops the call before the next phase, naming both keys', async () => {
  await withTempDir(async (dir) => {
    const events = join(dir, 'events');
    const reached = join(dir, 'reached-disko');
    const script = scriptedInstaller(dir, `step Switching system into kexec\necho 'host-key-mismatch SHA256:otherotherotherotherotherotherotherother00' > ${events}\nsleep 2\nstep Formatting hard drive with disko\ntouch ${reached}`);
    const guardEvents = async () => (existsSync(events) ? [{ kind: 'host-key-mismatch' as const, presented: readFileSync(events, 'utf8').split(' ')[1]!.trim() }] : []);
    const s = new InstallerSession({ run: runCommand, signal: new AbortController().signal, debug: () => {} }, sessionOptions(dir, [script], { guardEvents }));
    s.start();
    await assert.rejects(s.phase('kexec', quiet), (e) => {
      assert.ok(isBootstrapError(e) && e.code === 'host-key-changed', String(e));
      assert.match(e.message, /presents SHA256:otherother.*not the pinned SHA256:pinnedpinned/);
      return true;
    });
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(existsSync(reached), false, 'the script never got to disko');
  });
});

test('session: a non-zero exit fails the phase it happened in; earlier phases stay done', async () => {
  await withTempDir(async (dir) => {
    const script = scriptedInstaller(dir, `step Switching system into kexec\nstep Formatting hard drive with disko\necho 'disko: no such device' >&2\nexit 1`);
    const s = new InstallerSession({ run: runCommand, signal: new AbortController().signal, debug: () => {} }, sessionOptions(dir, [script]));
    s.start();
    await s.phase('kexec', quiet);
    await assert.rejects(s.phase('disko', quiet), (e) => e instanceof PhaseFailed && e.phase === 'disko' && /phase disko at "Formatting hard drive with disko"/.test(e.message));
  });
});

test('session: an interrupt stops the call and fails the current phase as interrupted', async () => {
  await withTempDir(async (dir) => {
    const script = scriptedInstaller(dir, `step Installing NixOS\nsleep 30`);
    const ac = new AbortController();
    const s = new InstallerSession({ run: runCommand, signal: ac.signal, debug: () => {} }, sessionOptions(dir, [script], { phases: ['install', 'reboot'] }));
    s.start();
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(s.phase('install', quiet), (e) => isBootstrapError(e) && e.code === 'interrupted');
  });
});

/** Alive and not a zombie waiting for a reaper (PID 1 of a container may not reap). */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

test('ssh guard: once bootstrap is gone (kill -9), no connection is made and the installer group is stopped', async () => {
  await withTempDir(async (dir) => {
    const sshd = await startSshd();
    try {
      const pinned = parsePublicKeyLine(readFileSync(`${sshd.hostKeyPath}.pub`, 'utf8'));
      const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const guard = await prepareSshGuard(join(dir, 'guard'), { realSsh: REAL_SSH, pins: buildGuardPins(buildPinNames('127.0.0.1', [sshd.port]), [pinned]), path: process.env.PATH, parentPid: Number(dead) });
      // Like the script's wait loop after kexec, in its own process group, with the guard as ssh.
      const loop = join(dir, 'loop.sh');
      writeFileSync(loop, `#!/usr/bin/env bash\nfor i in $(seq 1 50); do ssh -p ${sshd.port} -i ${sshd.clientKeyPath} -o BatchMode=yes root@127.0.0.1 'touch ${join(dir, 'ran')}'; sleep 0.2; done\necho 'loop ended by itself'\n`, { mode: 0o755 });
      const started = Date.now();
      const r = await runCommand([loop], { env: guard.env, group: true, check: false, timeoutMs: 20_000 });
      assert.equal(r.signal, 'SIGTERM', `the group was stopped: ${r.stdout}${r.stderr}`);
      assert.ok(Date.now() - started < 5_000);
      assert.match(r.stderr, /nixos-bootstrap \(pid \d+\) is gone/);
      assert.equal(existsSync(join(dir, 'ran')), false, 'nothing ran on the target');
    } finally {
      await sshd.stop();
    }
  });
});

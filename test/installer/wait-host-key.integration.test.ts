/**
 * Waiting for the provisioned host key after the reboot, against a REAL OpenSSH sshd on 127.0.0.1.
 * The clock is injected: sleeps return at once (and are where the "machine" changes state), so the
 * tests never wait for real time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../src/context.js';
import { isBootstrapError } from '../../src/errors.js';
import { buildKnownHostsPath, parsePublicKeyLine, runWaitForProvisionedKey } from '../../src/installer/wait-host-key.js';
import { parseTarget } from '../../src/ssh/target.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { withTempDir } from '../helpers/tmp.js';

const FAKES = fileURLToPath(new URL('../fakes', import.meta.url));

function keygen(path: string): { priv: string; pub: string } {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provisioned', '-f', path]);
  return { priv: readFileSync(path, 'utf8'), pub: readFileSync(`${path}.pub`, 'utf8') };
}

/** A clock whose sleep advances time instantly and runs `onSleep` (the world changing meanwhile). */
function fakeClock(onSleep: (n: number) => Promise<void> = async () => {}): Clock & { sleeps: number } {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const c = {
    sleeps: 0,
    now: () => new Date(t),
    sleep: async (ms: number) => {
      c.sleeps++;
      t += ms;
      await onSleep(c.sleeps);
    },
  };
  return c;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function knownHostsFinds(file: string, name: string): string {
  // real OpenSSH reading our file
  return execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
}

test('expected key: returns at once and pins it in OpenSSH format', async () => {
  await withTempDir(async (dir) => {
    const { pub } = keygen(`${dir}/prov`);
    const sshd = await startSshd();
    try {
      await sshd.restartWithHostKey(`${dir}/prov`); // (startSshd's hostKeyPath option does not copy the .pub)
      const target = parseTarget(`root@127.0.0.1:${sshd.port}`);
      const kh = buildKnownHostsPath(`${dir}/flake`);
      const key = await runWaitForProvisionedKey(fakeClock(), target, { expected: parsePublicKeyLine(pub), knownHostsFile: kh });
      assert.equal(key.fingerprint, parsePublicKeyLine(pub).fingerprint);
      assert.match(knownHostsFinds(kh, `[127.0.0.1]:${sshd.port}`), /ssh-ed25519/);
      assert.equal(readFileSync(kh, 'utf8'), `[127.0.0.1]:${sshd.port} ${pub.split(' ').slice(0, 2).join(' ')}\n`);
    } finally {
      await sshd.stop();
    }
  });
});

test('swapped key: host-key-mismatch naming both fingerprints, nothing pinned', async () => {
  await withTempDir(async (dir) => {
    const { pub } = keygen(`${dir}/prov`);
    const sshd = await startSshd(); // its own random key
    try {
      const expected = parsePublicKeyLine(pub);
      const kh = buildKnownHostsPath(`${dir}/flake`);
      await assert.rejects(
        runWaitForProvisionedKey(fakeClock(), parseTarget(`root@127.0.0.1:${sshd.port}`), { expected, knownHostsFile: kh }),
        (e) => isBootstrapError(e) && e.code === 'host-key-mismatch' && e.message.includes(expected.fingerprint) && e.message.includes(sshd.fingerprint),
      );
      assert.throws(() => statSync(kh), /ENOENT/);
    } finally {
      await sshd.stop();
    }
  });
});

test('not yet up: keeps polling until sshd starts, then succeeds', async () => {
  await withTempDir(async (dir) => {
    const { pub } = keygen(`${dir}/prov`);
    const port = await freePort();
    let sshd: Sshd | undefined;
    // sshd comes up during the third pause; the helper's own port plus ours (sshd listens on every Port)
    const clock = fakeClock(async (n) => {
      if (n !== 3) return;
      sshd = await startSshd({ extraConfig: [`Port ${port}`] });
      await sshd.restartWithHostKey(`${dir}/prov`);
    });
    try {
      const seen: string[] = [];
      const key = await runWaitForProvisionedKey(clock, parseTarget(`root@127.0.0.1:${port}`), {
        expected: parsePublicKeyLine(pub),
        intervalMs: 5_000,
        onAttempt: (d) => seen.push(d),
      });
      assert.equal(key.fingerprint, parsePublicKeyLine(pub).fingerprint);
      assert.equal(clock.sleeps, 3);
      assert.equal(seen.length, 4);
      assert.match(seen[0]!, /attempt 1, 600 s left/);
    } finally {
      await sshd?.stop();
    }
  });
});

test('deadline: a host that never answers times out with the last error', async () => {
  const port = await freePort();
  await assert.rejects(
    runWaitForProvisionedKey(fakeClock(), parseTarget(`root@127.0.0.1:${port}`), {
      expected: parsePublicKeyLine('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x'),
      deadlineMs: 30_000,
      intervalMs: 10_000,
    }),
    (e) => isBootstrapError(e) && e.code === 'host-key-wait-timeout' && /within 30 s/.test(e.message),
  );
});

test('the installer key is tolerated while the machine reboots into the provisioned one', async () => {
  await withTempDir(async (dir) => {
    const { pub } = keygen(`${dir}/prov`);
    const sshd = await startSshd(); // the "installer" with its fresh key
    try {
      const installerFp = sshd.fingerprint;
      const clock = fakeClock(async (n) => {
        if (n === 2) await sshd.restartWithHostKey(`${dir}/prov`);
      });
      const key = await runWaitForProvisionedKey(clock, parseTarget(`root@127.0.0.1:${sshd.port}`), { expected: parsePublicKeyLine(pub), tolerate: [installerFp] });
      assert.equal(key.fingerprint, parsePublicKeyLine(pub).fingerprint);
      assert.equal(clock.sleeps, 2);
    } finally {
      await sshd.stop();
    }
  });
});

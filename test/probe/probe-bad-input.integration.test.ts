/**
 * `bootstrap probe` with bad input or a hostile world: each case ends with exit 2 (bad input) or
 * 1 (failure), one error line plus a hint, and never a stack trace.
 */
import '../helpers/fake-nix-path.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { makeTempDir } from '../helpers/tmp.js';

let sshd: Sshd;
let notLinux: Sshd;
let tmp: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  tmp = await makeTempDir('nb-probe-bad-');
  const shims = join(tmp.dir, 'shims');
  mkdirSync(shims);
  // A fake `uname` first on the login PATH: the target claims to be FreeBSD.
  writeFileSync(join(shims, 'uname'), '#!/bin/sh\ncase "$1" in -m) echo amd64 ;; -r) echo 14.0-RELEASE ;; *) echo FreeBSD ;; esac\n');
  chmodSync(join(shims, 'uname'), 0o755);
  [sshd, notLinux] = await Promise.all([startSshd(), startSshd({ shimDirs: [shims] })]);
});
after(async () => {
  await sshd?.stop();
  await notLinux?.stop();
  await tmp?.cleanup();
});

// --flake keeps any pin inside the temp dir (runCli runs from the repo root, where tsx resolves).
const cli = (args: string[]) => runCli([...args, '--flake', tmp.dir], { env: { HOME: tmp.dir, SSH_AUTH_SOCK: undefined } });

function expectOneLine(r: CliResult, code: number, re: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, re);
  assert.match(r.stderr, /^\s+hint: \S/m, 'a hint says what to do');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('a closed loopback port: connection refused, exit 1', async () => {
  const port = await freePort();
  expectOneLine(await cli(['probe', `root@127.0.0.1:${port}`, '-i', sshd.clientKeyPath, '--accept-new-host-key']), 1, /127\.0\.0\.1 port \d+ was refused/);
});

test('a listener that never speaks SSH, --timeout 1: a clear timeout, exit 1', async () => {
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (silent.address() as { port: number }).port;
    expectOneLine(await cli(['probe', `root@127.0.0.1:${port}`, '-i', sshd.clientKeyPath, '--timeout', '1']), 1, /no SSH answer from 127\.0\.0\.1 port \d+ within 1 s/);
  } finally {
    silent.close();
  }
});

test('a blackholed address in a network namespace: timeout, exit 1', { skip: process.getuid?.() !== 0 && 'needs root for ip netns' }, async () => {
  const id = process.pid % 100000;
  const ns = `nbt-bh-${id}`;
  const veth = `nbtbh${id}`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
  try {
    try { ip('netns', 'del', ns); } catch { /* not there */ }
    ip('netns', 'add', ns);
    ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('addr', 'add', '10.231.0.245/30', 'dev', veth);
    ip('link', 'set', veth, 'up');
    ip('-n', ns, 'addr', 'add', '10.231.0.246/30', 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    // Every answer from the namespace (SYN-ACK or RST) vanishes: the connect just hangs.
    ip('-n', ns, 'route', 'add', 'blackhole', '10.231.0.245/32');
    expectOneLine(await cli(['probe', 'root@10.231.0.246', '-i', sshd.clientKeyPath, '--timeout', '1']), 1, /no SSH answer from 10\.231\.0\.246 port 22 within 1 s/);
  } finally {
    try { ip('netns', 'del', ns); } catch { /* gone */ }
    try { ip('link', 'del', veth); } catch { /* removed with the namespace */ }
  }
});

test('a key the target does not accept: refused login, exit 1', async () => {
  const wrong = join(tmp.dir, 'wrong_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong]);
  expectOneLine(await cli(['probe', sshd.target, '-i', wrong, '--host-key', sshd.fingerprint]), 1, new RegExp(`refused every login we offered \\(key ${wrong}\\)`));
});

test('a target that is not Linux: exit 1, says what it runs', async () => {
  expectOneLine(await cli(['probe', notLinux.target, '-i', notLinux.clientKeyPath, '--host-key', notLinux.fingerprint]), 1, /runs FreeBSD, not Linux/);
});

test('bad input: target string, flags, key file, facter file: exit 2', async () => {
  expectOneLine(await cli(['probe', 'root@bad_host!']), 2, /"root@bad_host!" is not an SSH target/);
  expectOneLine(await cli(['probe', 'root@[::1']), 2, /is not an SSH target/);
  expectOneLine(await cli(['probe']), 2, /missing TARGET/);
  expectOneLine(await cli(['probe', sshd.target, '--timeout', 'soon']), 2, /--timeout must be a number of seconds/);
  expectOneLine(await cli(['probe', sshd.target, '--host-key', 'abc']), 2, /"abc" is not a SHA256 host key fingerprint/);
  expectOneLine(await cli(['probe', sshd.target, '-i', join(tmp.dir, 'no-such-key')]), 2, /cannot use the key .*no-such-key: cannot read it: ENOENT/);
  expectOneLine(await cli(['probe', sshd.target, '-i', `${sshd.clientKeyPath}.pub`]), 2, /is a public key|not a private key/);
  expectOneLine(await cli(['probe', sshd.target, '--password-env', 'NB_TEST_UNSET_VAR', '--host-key', sshd.fingerprint]), 2, /NB_TEST_UNSET_VAR: that environment variable is empty or not set/);

  const truncated = join(tmp.dir, 'truncated.json');
  writeFileSync(truncated, '{"version": 1, "system": "x86_64-linux", "hardware": {"disk": [');
  expectOneLine(await cli(['probe', '--from-facter', truncated, '--json']), 2, /truncated\.json is not valid JSON/);
  expectOneLine(await cli(['probe', '--from-facter', join(tmp.dir, 'missing.json')]), 2, /cannot read --from-facter .*missing\.json: no such file/);
  const wrongShape = join(tmp.dir, 'wrong.json');
  writeFileSync(wrongShape, '{"hello": "world"}');
  const r = await cli(['probe', '--from-facter', wrongShape, '--json']);
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  expectOneLine(await cli(['probe', sshd.target, '--from-facter', wrongShape]), 2, /either TARGET or --from-facter/);
});

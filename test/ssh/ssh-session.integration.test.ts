/**
 * The SSH layer against a real OpenSSH sshd on 127.0.0.1: exec with stdin, host key trust and
 * pinning, the one-run allowance and the wait for an expected key, and the error mapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Output } from '../../src/ports/output.js';
import type { Prompter } from '../../src/ports/prompter.js';
import { createPrompter } from '../../src/ports/prompter.js';
import { systemClock } from '../../src/context.js';
import { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import { openSession, withSession, type SessionPorts } from '../../src/ssh/session.js';
import { parseTarget } from '../../src/ssh/target.js';
import { useSshdLab } from '../helpers/sshd.js';

let n = 0;

const lab = useSshdLab('nb-ssh-');

/** A fresh flake dir and HOME per test, so pins from one test never help another. */
function world(prompts: Prompter = createPrompter(false)) {
  const base = join(lab.dir, `w${n++}`);
  const home = join(base, 'home');
  const flake = join(base, 'flake');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(flake, { recursive: true });
  const err: string[] = [];
  const out = new Output({ write: () => {} }, { write: (t) => void err.push(t) }, { color: false });
  const ports: SessionPorts = { out, prompts, env: { HOME: home }, signal: new AbortController().signal };
  return { home, flake, ports, err, pinFile: join(flake, '.bootstrap', 'known_hosts') };
}

/** A fake prompter (no terminal here) that answers every confirm with `answer`. */
function fakePrompter(answer: boolean, asked: string[]): Prompter {
  return {
    interactive: true,
    input: async () => '',
    select: async () => { throw new Error('not asked'); },
    confirm: async (q) => { asked.push(q.message); return answer; },
  };
}

const target = () => parseTarget(lab.sshd.target);

test('exec returns stdout, stderr and exit code, with stdin, several commands on one connection', async () => {
  const w = world();
  const hostKeys = new HostKeyPolicy(w.ports, { flakeDir: w.flake });
  hostKeys.pin(target(), lab.sshd.fingerprint);
  await withSession(w.ports, target(), { hostKeys, identityFile: lab.sshd.clientKeyPath }, async (s) => {
    assert.equal(s.hostKey.fingerprint, lab.sshd.fingerprint);
    const r = await s.exec('cat; echo oops >&2; exit 3', { stdin: 'hello over stdin\n' });
    assert.equal(r.stdout, 'hello over stdin\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.code, 3);
    const r2 = await s.exec('uname -s');
    assert.equal(r2.stdout.trim(), 'Linux');
  });
  assert.match(readFileSync(w.pinFile, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${lab.sshd.port} ssh-ed25519 `));
});

test('unknown key without a terminal: usage error with the fingerprint and the flags', async () => {
  const w = world();
  const hostKeys = new HostKeyPolicy(w.ports, { flakeDir: w.flake });
  await assert.rejects(openSession(w.ports, target(), { hostKeys, identityFile: lab.sshd.clientKeyPath }), (e: any) => {
    assert.equal(e.code, 'unknown-host-key');
    assert.equal(e.kind, 'usage');
    assert.ok(e.message.includes(lab.sshd.fingerprint));
    assert.match(e.hint, /--host-key SHA256:.*--accept-new-host-key/);
    return true;
  });
  assert.equal(existsSync(w.pinFile), false, 'nothing pinned');
});

test('interactive: yes pins the key, no refuses', async () => {
  const asked: string[] = [];
  const yes = world(fakePrompter(true, asked));
  const hostKeys = new HostKeyPolicy(yes.ports, { flakeDir: yes.flake });
  await withSession(yes.ports, target(), { hostKeys, identityFile: lab.sshd.clientKeyPath }, async () => {});
  assert.equal(asked.length, 1);
  assert.ok(yes.err.join('').includes(lab.sshd.fingerprint), 'fingerprint shown before the question');
  assert.ok(readFileSync(yes.pinFile, 'utf8').includes('ssh-ed25519'));

  const no = world(fakePrompter(false, asked));
  await assert.rejects(
    openSession(no.ports, target(), { hostKeys: new HostKeyPolicy(no.ports, { flakeDir: no.flake }), identityFile: lab.sshd.clientKeyPath }),
    { code: 'host-key-declined' },
  );
});

test('a key known from ~/.ssh/known_hosts is trusted and copied into the flake pins; hashed entries work', async () => {
  const w = world();
  const userFile = join(w.home, '.ssh', 'known_hosts');
  writeFileSync(userFile, readFileSync(lab.sshd.knownHostsPath));
  execFileSync('ssh-keygen', ['-q', '-H', '-f', userFile], { stdio: 'ignore' });
  const hostKeys = new HostKeyPolicy(w.ports, { flakeDir: w.flake });
  await withSession(w.ports, target(), { hostKeys, identityFile: lab.sshd.clientKeyPath }, async () => {});
  assert.ok(readFileSync(w.pinFile, 'utf8').includes(`[127.0.0.1]:${lab.sshd.port}`));
});

test('accept-new pins; a changed key is refused naming both keys; allowKeyOnce lets one run through', async () => {
  const w = world();
  const first = new HostKeyPolicy(w.ports, { flakeDir: w.flake, acceptNew: true });
  await withSession(w.ports, target(), { hostKeys: first, identityFile: lab.sshd.clientKeyPath }, async () => {});
  const oldFp = lab.sshd.fingerprint;
  const pinned = readFileSync(w.pinFile, 'utf8');
  // The pin is what ssh(1) reads through UserKnownHostsFile.
  execFileSync('ssh', ['-p', String(lab.sshd.port), '-i', lab.sshd.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${w.pinFile}`, '-o', 'StrictHostKeyChecking=yes', 'root@127.0.0.1', 'true'], { stdio: 'ignore' });

  await lab.sshd.restartWithHostKey();
  const newFp = lab.sshd.fingerprint;
  const again = new HostKeyPolicy(w.ports, { flakeDir: w.flake, acceptNew: true });
  await assert.rejects(openSession(w.ports, target(), { hostKeys: again, identityFile: lab.sshd.clientKeyPath }), (e: any) => {
    assert.equal(e.code, 'host-key-changed');
    assert.equal(e.kind, 'failure');
    assert.ok(e.message.includes(oldFp) && e.message.includes(newFp), e.message);
    assert.ok(e.message.includes(w.pinFile), 'says where the old key is recorded');
    assert.ok(e.hint.includes(`--host-key ${newFp}`));
    return true;
  });

  again.allowKeyOnce(target(), newFp);
  await withSession(w.ports, target(), { hostKeys: again, identityFile: lab.sshd.clientKeyPath }, async () => {});
  assert.equal(readFileSync(w.pinFile, 'utf8'), pinned, 'a one-run allowance is never persisted');

  const repin = new HostKeyPolicy(w.ports, { flakeDir: w.flake });
  repin.pin(target(), newFp);
  await withSession(w.ports, target(), { hostKeys: repin, identityFile: lab.sshd.clientKeyPath }, async () => {});
  const after = readFileSync(w.pinFile, 'utf8');
  assert.ok(!after.includes(pinned.trim().split(' ')[2]!), 'the re-pin replaced the old key');
  assert.ok(w.err.join('').includes(oldFp), 'the override is reported');
});

test('errors: refused auth, refused connection, timeout, abort', async () => {
  const w = world();
  const hostKeys = new HostKeyPolicy(w.ports, { flakeDir: w.flake, acceptNew: true });
  const wrongKey = join(lab.dir, 'wrong_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
  await assert.rejects(openSession(w.ports, target(), { hostKeys, identityFile: wrongKey }), (e: any) =>
    e.code === 'ssh-auth-failed' && e.message.includes(wrongKey) && /-i FILE/.test(e.hint));

  const closed = parseTarget('root@127.0.0.1:1');
  await assert.rejects(openSession(w.ports, closed, { hostKeys, identityFile: lab.sshd.clientKeyPath }), { code: 'ssh-connection-refused' });

  // A listener that never speaks SSH: only the deadline ends the wait.
  const net = await import('node:net');
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (silent.address() as { port: number }).port;
    const t = parseTarget(`root@127.0.0.1:${port}`);
    await assert.rejects(openSession(w.ports, t, { hostKeys, identityFile: lab.sshd.clientKeyPath, timeoutMs: 500 }), (e: any) =>
      e.code === 'ssh-timeout' && /within 0\.5 s/.test(e.message));
    const ac = new AbortController();
    const p = openSession({ ...w.ports, signal: ac.signal }, t, { hostKeys, identityFile: lab.sshd.clientKeyPath });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, { code: 'interrupted' });
    // An abort while the pins are being read (a slow disk, a busy machine) is not lost either.
    const early = new AbortController();
    const slowPins = Object.create(hostKeys) as typeof hostKeys;
    slowPins.knownTypes = async (target) => {
      early.abort();
      return hostKeys.knownTypes(target);
    };
    // Ended by the abort, not by the 10 s connect deadline (that would be ssh-timeout).
    await assert.rejects(openSession({ ...w.ports, signal: early.signal }, t, { hostKeys: slowPins, identityFile: lab.sshd.clientKeyPath }), { code: 'interrupted' });
  } finally {
    silent.close();
  }
});

test('login without -i: the default key file, then ssh-agent', async () => {
  const w = world();
  copyFileSync(lab.sshd.clientKeyPath, join(w.home, '.ssh', 'id_ed25519'));
  const hostKeys = new HostKeyPolicy(w.ports, { flakeDir: w.flake, acceptNew: true });
  await withSession(w.ports, target(), { hostKeys }, async (s) => assert.equal((await s.exec('echo ok')).stdout, 'ok\n'));

  const a = world();
  const sock = join(lab.dir, `agent-${n}.sock`);
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    execFileSync('ssh-add', ['-q', lab.sshd.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const ports = { ...a.ports, env: { HOME: a.home, SSH_AUTH_SOCK: sock } };
    const policy = new HostKeyPolicy(ports, { flakeDir: a.flake, acceptNew: true });
    await withSession(ports, target(), { hostKeys: policy }, async (s) => assert.equal((await s.exec('echo agent')).stdout, 'agent\n'));
    // Without the agent and without keys there is nothing to offer, and the error says so.
    const none = { ...a.ports, env: { HOME: a.home } };
    await assert.rejects(openSession(none, target(), { hostKeys: policy }), (e: any) => e.code === 'ssh-auth-failed' && /no key, agent or password/.test(e.message));
  } finally {
    agent.kill('SIGTERM');
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../exec/run.js';
import { buildHostKey } from '../../ssh/host-keys.js';
import { buildReachPath, buildTailnetTargetText, chooseManifestRoute, chooseTailnetRoute, loadReach, planTailnetReach, resolveTailnetTarget, runWaitOverTailnet, saveReach } from './tailnet.js';

test('tailnet-only is when the port is open on the tailnet interface alone; without a tailnet name that is refused before the wipe', () => {
  assert.deepEqual(planTailnetReach({ openOn: ['tailscale0'] }, 'tailscale0', 'web1.tail1234.ts.net', 'web1'), { tailnetOnly: true, name: 'web1.tail1234.ts.net', interface: 'tailscale0' });
  assert.deepEqual(planTailnetReach({ openOn: ['*'] }, 'tailscale0', 'web1.tail1234.ts.net', 'web1'), { tailnetOnly: false });
  assert.deepEqual(planTailnetReach({ openOn: ['eth0', 'tailscale0'] }, 'tailscale0', 'web1.tail1234.ts.net', 'web1'), { tailnetOnly: false });
  // A lock-out allowed with --allow-lockout leaves the port open nowhere: not a tailnet route either.
  assert.deepEqual(planTailnetReach({ openOn: [] }, 'tailscale0', 'web1.tail1234.ts.net', 'web1'), { tailnetOnly: false });
  assert.throws(() => planTailnetReach({ openOn: ['tailscale0'] }, 'tailscale0', undefined, 'web1'), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'tailnet-name-unknown');
    assert.match(e.hint ?? '', /\[tailscale\] tailnet/);
    return true;
  });
});

test('the reach is kept beside the run state for a resumed verify; none recorded reads as the target', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-reach-'));
  try {
    const path = buildReachPath(join(dir, 'web1', 'run.json'));
    assert.equal(path, join(dir, 'web1', 'reach.json'));
    assert.deepEqual(await loadReach(path), { tailnetOnly: false });
    await saveReach(path, { tailnetOnly: true, name: 'web1.tail1234.ts.net', interface: 'tailscale0' });
    assert.deepEqual(await loadReach(path), { tailnetOnly: true, name: 'web1.tail1234.ts.net', interface: 'tailscale0' });
    writeFileSync(path, '{"tailnetOnly":true}');
    assert.deepEqual(await loadReach(path), { tailnetOnly: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the tailnet target keeps the user and port', () => {
  assert.equal(buildTailnetTargetText({ user: 'admin', port: 2222 }, 'web1.tail1234.ts.net'), 'admin@web1.tail1234.ts.net:2222');
  assert.equal(buildTailnetTargetText({ user: 'root', port: 22 }, 'web1.tail1234.ts.net'), 'root@web1.tail1234.ts.net');
});

const ports = { run: runCommand, env: { HOME: tmpdir(), PATH: process.env.PATH } };

test('status and deploy take the tailnet name only when it resolves here (injected resolver), else the target, saying why', async () => {
  const cfg = join(mkdtempSync(join(tmpdir(), 'nb-ts-cfg-')), 'ssh_config');
  writeFileSync(cfg, '');
  const asked: string[] = [];
  const on = await chooseTailnetRoute(ports, 'root@web1.tail1234.ts.net', { sshConfig: cfg, lookup: async (n) => (asked.push(n), ['100.64.0.7']) });
  assert.equal(on.via, 'tailnet');
  assert.deepEqual(asked, ['web1.tail1234.ts.net']);
  const off = await chooseTailnetRoute(ports, 'root@web1.tail1234.ts.net', { sshConfig: cfg, lookup: async () => [] });
  assert.deepEqual(off, { via: 'target', why: 'web1.tail1234.ts.net does not resolve here (this machine is not on the tailnet, or MagicDNS is off)' });
  // The ssh config applies to the name as to any target: a HostName mapping is looked up, not the name.
  writeFileSync(cfg, 'Host web1.tail1234.ts.net\n  HostName 100.64.0.9\n');
  const mapped = await chooseTailnetRoute(ports, 'root@web1.tail1234.ts.net', { sshConfig: cfg, lookup: async (n) => (asked.push(n), [n]) });
  assert.equal(mapped.via === 'tailnet' && mapped.target.host, '100.64.0.9');
  rmSync(join(cfg, '..'), { recursive: true, force: true });
});

test('verify over the tailnet gives up at its deadline with a clear error while the name never resolves, and touches no address', async () => {
  const cfg = join(mkdtempSync(join(tmpdir(), 'nb-ts-cfg-')), 'ssh_config');
  writeFileSync(cfg, '');
  let now = 0;
  const clock = { now: () => new Date(now), sleep: async (ms: number) => void (now += ms) };
  const target = await resolveTailnetTarget(ports, 'root@web1.tail1234.ts.net', { sshConfig: cfg });
  const lookups: number[] = [];
  const progress: string[] = [];
  const expected = buildHostKey(Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', 'base64'));
  await assert.rejects(
    runWaitOverTailnet({
      clock, target, expected, tolerate: [], deadlineMs: 20_000, intervalMs: 2_000, knownHostsFile: join(cfg, '..', 'known_hosts'),
      via: { ports: {} as never, hostKeys: {} as never }, signal: new AbortController().signal, onAttempt: (d) => progress.push(d),
      lookup: async () => (lookups.push(now), []),
    }),
    (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'tailnet-wait-timeout');
      assert.match(e.message, /^root@web1\.tail1234\.ts\.net did not answer over the tailnet within 20 s: \(last: web1\.tail1234\.ts\.net does not resolve \(the host has not joined the tailnet yet\)\)/);
      assert.match(e.hint ?? '', /tailscale status/);
      return true;
    },
  );
  assert.equal(lookups.length, 10, 'one lookup per attempt, every 2 s, until the deadline');
  assert.match(progress[0]!, /^waiting for root@web1\.tail1234\.ts\.net \(attempt 1, 20 s left\) over the tailnet$/);
  rmSync(join(cfg, '..'), { recursive: true, force: true });
});

test('a later run\'s route: the recorded name when it resolves, else the target; --via forces one; none recorded is the target', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-ts-route-'));
  const cfg = join(dir, 'ssh_config');
  writeFileSync(cfg, '');
  const yes = async () => ['100.64.0.7'];
  const no = async () => [];
  const debug: string[] = [];
  const p = { ...ports, debug: (m: string) => debug.push(m) };
  try {
    assert.deepEqual(await chooseManifestRoute(p, 'web1', 'admin@203.0.113.7:2222', 'web1.tail1234.ts.net', { sshConfig: cfg, lookup: yes }), { text: 'admin@web1.tail1234.ts.net:2222', via: 'tailnet' });
    assert.deepEqual(await chooseManifestRoute(p, 'web1', 'admin@203.0.113.7:2222', 'web1.tail1234.ts.net', { sshConfig: cfg, lookup: no }), { text: 'admin@203.0.113.7:2222', via: 'target' });
    assert.match(debug.join('\n'), /web1: web1\.tail1234\.ts\.net does not resolve here .*; using its target admin@203\.0\.113\.7:2222/);
    assert.deepEqual(await chooseManifestRoute(p, 'web1', 'root@203.0.113.7', 'web1.tail1234.ts.net', { route: 'target', lookup: yes }), { text: 'root@203.0.113.7', via: 'target' });
    assert.deepEqual(await chooseManifestRoute(p, 'web1', 'root@203.0.113.7', 'web1.tail1234.ts.net', { route: 'tailnet', lookup: no }), { text: 'root@web1.tail1234.ts.net', via: 'tailnet' });
    assert.deepEqual(await chooseManifestRoute(p, 'web1', 'root@203.0.113.7', undefined, { lookup: yes }), { text: 'root@203.0.113.7' });
    await assert.rejects(chooseManifestRoute(p, 'web1', 'root@203.0.113.7', undefined, { route: 'tailnet' }), { code: 'no-tailnet-name', kind: 'usage' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

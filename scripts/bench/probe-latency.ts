/**
 * Probe latency over the slow link (slow-link.ts: 100 ms of added round-trip time). Measures our probe
 * (one ssh2 connection, one exec), the OpenSSH client running the same script, and one exec per
 * fact (10 facts) both as 10 OpenSSH connections and as 10 execs on one ssh2 connection.
 * Round trips = (wall with delay − wall without) / 100 ms, so compute on either side cancels out.
 * Target: our probe in at most 8 round trips, handshake included. Needs root (skips otherwise).
 * Issue 20: the probe through one jump host (an ssh config alias with ProxyJump, resolved by the
 * real `ssh -G`): the bastion is the namespace's sshd over the slow link, the target that same
 * sshd at its namespace address as the bastion reaches it, so every packet of the inner
 * connection crosses the slow link too. Target: at most 2x the round trips of the direct probe.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { runProbe, LINUX_GUARD } from '../../src/probe/run-probe.js';
import { loadProbeScript, PROBE_COMMAND } from '../../src/probe/script.js';
import { withSession } from '../../src/ssh/session.js';
import { resolveTarget } from '../../src/ssh/ssh-config.js';
import { parseTarget } from '../../src/ssh/target.js';
import { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import { buildFingerprint } from '../../src/ssh/host-keys.js';
import { median, ONE_WAY_MS, RTT_MS, timed, withSlowLink } from './slow-link.js';

const RUNS = 5;
const TARGET_RTT = 8;
const JUMP_FACTOR = 2;
const FACTS = [
  'uname -m', 'cat /proc/cpuinfo', 'cat /proc/meminfo', 'lsblk -J -b', 'ls -l /dev/disk/by-id',
  'ip -j addr', 'ip -j route', 'cat /etc/os-release', 'systemd-detect-virt', 'ls /sys/firmware/efi',
];

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

await withSlowLink({ hostIp: '10.231.0.249', nsIp: '10.231.0.250', tag: 'p' }, async ({ dir, hostPub, fast, slow, slowTurns, ports, pinned }) => {
  const script = LINUX_GUARD + loadProbeScript();
  const rows: { name: string; base: number; slow: number; turns?: number }[] = [];

  const measure = async (name: string, runs: number, fn: (port: number) => Promise<unknown>) => {
    const base = await timed(() => fn(fast), runs);
    const before = slowTurns.length;
    const slowMs = await timed(() => fn(slow), runs);
    await new Promise((r) => setTimeout(r, 3 * ONE_WAY_MS)); // let the proxy report the closed connections
    const t = slowTurns.slice(before);
    rows.push({ name, base, slow: slowMs, ...(t.length === runs ? { turns: median(t) } : {}) });
  };

  const sshOpts = (port: number) => {
    const { target, ssh } = pinned(port);
    return { target, opts: ssh };
  };
  const kh = join(dir, 'known_hosts');
  writeFileSync(kh, `[127.0.0.1]:${fast} ${hostPub[0]} ${hostPub[1]}\n[127.0.0.1]:${slow} ${hostPub[0]} ${hostPub[1]}\n`);
  const openssh = (port: number, cmd: string, input?: string) => runCommand([
    'ssh', '-F', '/dev/null', '-p', String(port), '-i', join(dir, 'client'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', 'root@127.0.0.1', cmd,
  ], { ...(input !== undefined ? { input } : {}), check: false });

  // Through one jump host: the alias `bench-target` (HostName: the namespace address) with
  // ProxyJump root@127.0.0.1:PORT (the proxy), both logging in with the client key.
  const nsIp = '10.231.0.250';
  const config = join(dir, 'ssh_config');
  writeFileSync(config, `Host bench-target\n  HostName ${nsIp}\n  ProxyJump root@127.0.0.1:%PORT%\nHost 127.0.0.1\n  IdentityFile ${join(dir, 'client')}\n`);
  const fingerprint = buildFingerprint(Buffer.from(hostPub[1], 'base64'));
  const jumpOpts = async (port: number) => {
    const cfg = join(dir, `ssh_config_${port}`);
    writeFileSync(cfg, readFileSync(config, 'utf8').replace('%PORT%', String(port)));
    const target = await resolveTarget({ run: runCommand, env: ports.env }, 'root@bench-target', parseTarget('root@bench-target'), { configFile: cfg });
    const hostKeys = new HostKeyPolicy(ports, { flakeDir: dir });
    hostKeys.pin(target, fingerprint);
    hostKeys.pin(target.jumps![0]!, fingerprint);
    return { target, opts: { hostKeys, identityFile: join(dir, 'client') } };
  };
  const jumpFast = await jumpOpts(fast);
  const jumpSlow = await jumpOpts(slow);

  // Warm up sshd, the page cache and our own modules once, unmeasured.
  { const { target, opts } = sshOpts(fast); await runProbe(ports, target, opts); }

  await measure('bootstrap probe (ssh2, 1 connection, 1 exec)', RUNS, (port) => {
    const { target, opts } = sshOpts(port);
    return runProbe(ports, target, opts);
  });
  await measure('bootstrap probe through one jump host (ProxyJump)', RUNS, (port) => {
    const { target, opts } = port === fast ? jumpFast : jumpSlow;
    return runProbe(ports, target, opts);
  });
  await measure('OpenSSH client, same script on stdin', RUNS, (port) => openssh(port, PROBE_COMMAND, script));
  await measure(`ssh2, 1 connection, ${FACTS.length} execs (one per fact)`, RUNS, (port) => {
    const { target, opts } = sshOpts(port);
    return withSession(ports, target, opts, async (s) => { for (const f of FACTS) await s.exec(f); });
  });
  await measure(`OpenSSH client, ${FACTS.length} connections (one per fact)`, 1, async (port) => {
    for (const f of FACTS) await openssh(port, f);
  });

  console.log(`added round-trip time ${RTT_MS} ms (delay proxy, ${ONE_WAY_MS} ms each way); median of ${RUNS} runs (1 for the last row)`);
  console.log(`${'method'.padEnd(52)} ${'no delay'.padStart(9)} ${'+100ms RTT'.padStart(11)} ${'wall/RTT'.padStart(9)} ${'round trips'.padStart(12)} ${'turns/2'.padStart(8)}`);
  for (const r of rows) {
    const trips = (r.slow - r.base) / RTT_MS;
    console.log(`${r.name.padEnd(52)} ${`${r.base.toFixed(0)} ms`.padStart(9)} ${`${r.slow.toFixed(0)} ms`.padStart(11)} ${(r.slow / RTT_MS).toFixed(1).padStart(9)} ${trips.toFixed(1).padStart(12)} ${(r.turns !== undefined ? (r.turns / 2).toFixed(1) : '-').padStart(8)}`);
  }
  const ours = rows[0]!;
  const trips = (ours.slow - ours.base) / RTT_MS;
  console.log(`our probe: ${trips.toFixed(1)} round trips (target <= ${TARGET_RTT}): ${trips <= TARGET_RTT ? 'MET' : 'MISSED'}`);
  const jump = rows[1]!;
  const jumpTrips = (jump.slow - jump.base) / RTT_MS;
  const factor = jumpTrips / trips;
  console.log(`through one jump host: ${jumpTrips.toFixed(1)} round trips, ${factor.toFixed(2)}x the direct probe (target <= ${JUMP_FACTOR}x): ${factor <= JUMP_FACTOR ? 'MET' : 'MISSED'}`);
});

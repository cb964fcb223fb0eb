/**
 * Health report latency over a slow link (issue 12): the same namespace sshd and userspace delay
 * proxy as probe-latency.ts (100 ms added round-trip time). Measures the report's collection (one
 * ssh2 connection, one exec of the health script). Target: at most 8 round trips, handshake
 * included. Needs root (skips otherwise).
 */
import { runCollectFacts } from '../../src/health/collect.js';
import type { HealthExpectations } from '../../src/health/expect.js';
import { ONE_WAY_MS, RTT_MS, timed, withSlowLink } from './slow-link.js';

const RUNS = Number(process.env.NB_BENCH_RUNS ?? 5);
const TARGET_RTT = 8;

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

await withSlowLink({ hostIp: '10.239.250.1', nsIp: '10.239.250.2', tag: 'h' }, async ({ fast, slow, ports, pinned }) => {
  const expectations: HealthExpectations = {
    host: 'bench1', context: 'status', builtToplevel: null, layout: null,
    secrets: { mode: 'sops', keyFiles: ['/var/lib/sops-nix/key.txt'] }, cache: null, backupConfigured: false,
  };
  const collect = (port: number) => runCollectFacts(ports, { ...pinned(port), expectations });
  await collect(fast); // warm up, unmeasured
  const base = await timed(() => collect(fast), RUNS);
  const slowMs = await timed(() => collect(slow), RUNS);
  const trips = (slowMs - base) / RTT_MS;
  console.log(`added round-trip time ${RTT_MS} ms (delay proxy, ${ONE_WAY_MS} ms each way); median of ${RUNS} runs`);
  console.log(`bootstrap health report (ssh2, 1 connection, 1 exec): ${base.toFixed(0)} ms without delay, ${slowMs.toFixed(0)} ms with it, ${trips.toFixed(1)} round trips`);
  console.log(`our health report: ${trips.toFixed(1)} round trips (target <= ${TARGET_RTT}): ${trips <= TARGET_RTT ? 'MET' : 'MISSED'}`);
});

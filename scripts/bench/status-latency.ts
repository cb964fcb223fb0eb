/**
 * `bootstrap status` of one host over the 100 ms link, with its drift check (issue 21) and without
 * it (--no-drift): the deploy lab's host behind the userspace delay proxy, once without delay and
 * once with 50 ms each way; round trips = (slow − fast) / RTT, so the flake's evaluation here and
 * the host's own work cancel out. The proxy counts the TCP connections a run opens. Target: the
 * drift check costs no connection and no round trip of its own (status with drift within 1 round
 * trip of status without). Needs root (skips otherwise).
 */
import { runStatus } from '../../src/workflow/status/index.js';
import { createDeployLab } from '../../test/deploy/deploy-lab.js';
import { measureOverLinks, pointAt, startLinkedHost } from './deploy-bench-lab.js';

const RUNS = Number(process.env.NB_BENCH_RUNS ?? 5);
const ONE_WAY_MS = 50;
const RTT_MS = 2 * ONE_WAY_MS;

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

const linked = await startLinkedHost(createDeployLab, ONE_WAY_MS);
const { lab, fast, l } = linked;
try {
  const status = async (drift: boolean) => {
    const { exitCode, reports } = await runStatus(l.app, { hosts: ['web1'], flakeDir: lab.flakeDir, parallel: 1, json: false, strict: false, identity: lab.clientKey, timeout: '10', drift });
    if (exitCode !== 0 || (drift && (!reports[0]!.drift || reports[0]!.drift.state === 'unreachable'))) throw new Error(`status: ${reports.map((r) => `${r.status} ${r.error?.message ?? ''} ${r.drift?.state ?? ''}`).join('; ')}`);
    l.stdout();
  };
  const measure = (drift: boolean) => measureOverLinks(linked, ONE_WAY_MS, RUNS, () => status(drift));
  pointAt(lab, 'web1', fast.port);
  await status(true); // warm-up
  const plain = await measure(false);
  const drift = await measure(true);
  const line = (what: string, m: typeof plain) => `${what}: ${m.fast.toFixed(0)} ms without delay, ${m.slow.toFixed(0)} ms with it: ${m.rtt.toFixed(1)} round trips, ${m.conns} connection(s), ${m.turnTrips.toFixed(1)} round trips by the proxy's count of direction changes`;
  console.log(`added round-trip time ${RTT_MS} ms (delay proxy, ${ONE_WAY_MS} ms each way); median of ${RUNS} runs`);
  console.log(line('status --no-drift', plain));
  console.log(line('status (drift included)', drift));
  // On the wire (the proxy's count) rather than by wall time: the flake's evaluation runs here
  // beside the connection and competes for the CPU, which the wall times of a loaded machine show.
  const extra = drift.turnTrips - plain.turnTrips;
  console.log(`the drift check adds ${extra.toFixed(1)} round trips on the wire (${(drift.rtt - plain.rtt).toFixed(1)} by wall time) and ${drift.conns - plain.conns} connection(s) (target: none of its own): ${extra <= 0.5 && drift.conns === plain.conns ? 'MET' : 'MISSED'}`);
} finally {
  await linked.close();
}

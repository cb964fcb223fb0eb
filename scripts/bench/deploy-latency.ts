/**
 * A no-change `bootstrap deploy` of one host over the 100 ms link (issue 21): the deploy lab's host
 * (a real sshd in a namespace, a real generation layout, the FAKE local nix) behind the userspace
 * delay proxy, once without delay and once with 50 ms each way; round trips = (slow − fast) / RTT,
 * so the local build and the host's own work cancel out. The host already runs and boots the
 * system the flake builds, so the deploy must only find that out and report. Also measured the
 * same way: the report alone (`status --no-drift` of the host: one connection, the health script
 * and the declared checks). Target: the deploy costs at most 12 round trips plus the report. The
 * proxies count the connections (TCP, so ssh2's and OpenSSH's alike) and their direction changes.
 * Needs root (skips otherwise).
 */
import { runStatus } from '../../src/workflow/status/index.js';
import { createDeployLab } from '../../test/deploy/deploy-lab.js';
import { deployOnce, measureOverLinks, pointAt, startLinkedHost } from './deploy-bench-lab.js';

const RUNS = Number(process.env.NB_BENCH_RUNS ?? 5);
const ONE_WAY_MS = 50;
const RTT_MS = 2 * ONE_WAY_MS;
const TARGET_RTT = 12;

if (process.getuid?.() !== 0) {
  console.log('skipped: needs root (network namespaces); run `npm run bench` as root');
  process.exit(0);
}

const linked = await startLinkedHost(createDeployLab, ONE_WAY_MS);
const { lab, fast, l } = linked;
try {
  const measure = (fn: () => Promise<unknown>) => measureOverLinks(linked, ONE_WAY_MS, RUNS, fn);

  pointAt(lab, 'web1', fast.port);
  // The manifest names the proxy's port while sshd listens on 22: the lock-out guard (which runs
  // first, and reads no interface for that verdict) would refuse it, so it is overridden here.
  await deployOnce(lab, l, ['web1'], 'unchanged', 1, true); // warm-up: module loading, the first build
  const deploy = await measure(() => deployOnce(lab, l, ['web1'], 'unchanged', 1, true));
  const report = await measure(async () => {
    const { exitCode, reports } = await runStatus(l.app, { hosts: ['web1'], flakeDir: lab.flakeDir, parallel: 1, json: false, strict: false, identity: lab.clientKey, timeout: '10', drift: false });
    if (exitCode !== 0) throw new Error(`status: ${reports.map((r) => r.error?.message ?? r.status).join('; ')}`);
    l.stdout();
  });
  // For comparison, not a target: a real deploy (a new system each run: copy, guard, timer, switch,
  // check over a new connection, confirm).
  let edit = 0;
  const real = await measure(() => {
    lab.writeConfig('web1', { units: { app: 'exit 0' }, motd: `bench edit ${++edit}` });
    // Through the proxy the host seems to listen on the proxy's port: the lock-out guard is still
    // evaluated (here, no round trip), its refusal overridden.
    return deployOnce(lab, l, ['web1'], 'deployed', 1, true);
  });
  const line = (what: string, m: typeof deploy) =>
    `${what}: ${m.fast.toFixed(0)} ms without delay, ${m.slow.toFixed(0)} ms with it: ${m.rtt.toFixed(1)} round trips; ${m.conns} TCP connection(s), ${m.turnTrips.toFixed(1)} round trips by the proxy's count of direction changes`;
  console.log(`added round-trip time ${RTT_MS} ms (delay proxy, ${ONE_WAY_MS} ms each way); median of ${RUNS} runs`);
  console.log(line('no-change deploy of one host', deploy));
  console.log(line('the report alone (status --no-drift: health script + declared checks)', report));
  console.log(line('for comparison, a real deploy of one host (no target)', real));
  const beyond = deploy.rtt - report.rtt;
  // The wall times of a loaded machine are noisy; the proxy's count of the wire is not.
  console.log(`on the wire: ${deploy.turnTrips.toFixed(1)} round trips = the report + ${(deploy.turnTrips - report.turnTrips).toFixed(1)}`);
  console.log(`no-change deploy: ${deploy.rtt.toFixed(1)} round trips by wall time = the report + ${beyond.toFixed(1)} (target ≤ ${TARGET_RTT} plus the report): ${beyond <= TARGET_RTT ? 'MET' : 'MISSED'}`);
} finally {
  await linked.close();
}

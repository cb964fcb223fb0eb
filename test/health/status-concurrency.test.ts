/**
 * `bootstrap status` of many hosts runs their reports side by side, --parallel at a time: a fake
 * collector counts how many hosts are in flight (no sshd; it waits on event-loop turns, and at
 * most 2 s for the hosts a pool should run together). Also the pool itself (runPool) and that a bad manifest still stops the run first.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createPrompter } from '../../src/ports/prompter.js';
import type { AppContext } from '../../src/context.js';
import { countChecks, type HealthReport } from '../../src/health/report.js';
import { buildManifestToml } from '../../src/manifest/manifest.js';
import { runPool } from '../../src/workflow/shared/pool.js';
import { runStatus, type HealthCollector } from '../../src/workflow/status/index.js';
import { parseHealthOutput } from '../../src/health/parse.js';
import { runCommand, type Runner } from '../../src/exec/run.js';
import { captureCtx } from '../storage/capture.js';

const HOSTS = Array.from({ length: 8 }, (_, i) => `web${i + 1}`);
let flakeDir: string;

before(() => {
  flakeDir = mkdtempSync(join(tmpdir(), 'nb-status-pool-'));
  writeFileSync(join(flakeDir, 'flake.nix'), '{ outputs = _: { }; }\n');
  writeFileSync(join(flakeDir, 'bootstrap.toml'), '');
  HOSTS.forEach((host, i) => {
    mkdirSync(join(flakeDir, 'hosts', host), { recursive: true });
    writeFileSync(join(flakeDir, 'hosts', host, 'bootstrap.toml'), buildManifestToml({
      version: 1, host, target: `root@192.0.2.${i + 1}`, profile: 'generic-vps',
      layout: { name: 'single-ext4' },
      installDisk: { path: '/dev/vda', byId: '/dev/disk/by-id/virtio-x', sizeBytes: 40e9 },
    }));
  });
});
after(() => rmSync(flakeDir, { recursive: true, force: true }));

const turns = async (n: number) => { for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r)); };

/**
 * A collector that takes `work(host)` event-loop turns per host and records the most hosts in flight.
 * Each host's target is resolved first (`ssh -G`, a real subprocess of varying length), so hosts reach
 * the collector at different times: each waits (bounded, 2 s) until `together` hosts are in flight or
 * every host has started. A pool that ran fewer at once never gets there and shows in `max`.
 */
function fakeCollector(work: (host: string) => number, together = 1) {
  const seen = { inFlight: 0, max: 0, started: [] as string[] };
  const collect: HealthCollector = async (_ports, t) => {
    seen.started.push(t.host);
    seen.max = Math.max(seen.max, ++seen.inFlight);
    for (let i = 0; i < 400 && seen.inFlight < together && seen.started.length < HOSTS.length; i++) await new Promise<void>((r) => setTimeout(r, 5));
    await turns(work(t.host));
    seen.inFlight--;
    return { host: t.host, target: `${t.target.user}@${t.target.host}`, status: 'ok', collectedAt: '2026-12-01T00:00:00Z', seconds: 1, checks: [], counts: countChecks([]) };
  };
  return { seen, collect };
}

function app(): AppContext {
  return { ...captureCtx(), prompts: createPrompter(false), env: { HOME: flakeDir }, cwd: flakeDir };
}

for (const parallel of [8, 3, 1]) {
  test(`status of 8 hosts with --parallel ${parallel}: ${parallel} in flight at most and at once, reports in the order given`, async () => {
    // Later hosts finish first, so results written out of order would show.
    const { seen, collect } = fakeCollector((h) => 20 - Number(h.slice(3)), parallel);
    const { reports, exitCode } = await runStatus(app(), { hosts: HOSTS, flakeDir, parallel, json: false, strict: false }, undefined, collect);
    assert.equal(seen.max, parallel);
    assert.equal(seen.inFlight, 0);
    assert.deepEqual([...seen.started].sort(), [...HOSTS].sort());
    assert.deepEqual(reports.map((r) => r.host), HOSTS);
    assert.deepEqual(reports.map((r) => r.target), HOSTS.map((_, i) => `root@192.0.2.${i + 1}`));
    assert.equal(exitCode, 0);
  });
}

test('status: every host is reached before the first one finishes when --parallel covers them', async () => {
  // Each host waits until all 8 have started (or gives up after many turns, so a serial pool fails, not hangs).
  const started = new Set<string>();
  const order: string[] = [];
  const collect: HealthCollector = async (_ports, t) => {
    started.add(t.host);
    for (let i = 0; i < 1000 && started.size < HOSTS.length; i++) await turns(1);
    order.push(`${t.host}:${started.size}`);
    return { host: t.host, target: '-', status: 'ok', collectedAt: '2026-12-01T00:00:00Z', seconds: 1, checks: [], counts: countChecks([]) };
  };
  await runStatus(app(), { hosts: HOSTS, flakeDir, parallel: 8, json: false, strict: false }, undefined, collect);
  assert.deepEqual(order.map((o) => o.split(':')[1]), HOSTS.map(() => String(HOSTS.length)));
});

test('status: a host without a manifest is bad input before any host is reached (the first one named)', async () => {
  const { seen, collect } = fakeCollector(() => 1);
  await assert.rejects(
    runStatus(app(), { hosts: ['web1', 'nope1', 'web2', 'nope2'], flakeDir, parallel: 8, json: false, strict: false }, undefined, collect),
    (e: Error & { code?: string }) => e.code === 'no-manifest' && /hosts\/nope1\/bootstrap\.toml/.test(e.message),
  );
  assert.equal(seen.started.length, 0);
});

test("status with drift: one collection per host (with its facts), the drift read from them, no connection of its own", async () => {
  // The hosts (192.0.2.0/24, TEST-NET) are never reached: a second connection for the drift would
  // find nothing there and mark every host unreachable.
  const running = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web';
  const calls: Array<{ host: string; includeFacts: boolean }> = [];
  const collect: HealthCollector = async (_ports, t, opts) => {
    calls.push({ host: t.host, includeFacts: opts.includeFacts });
    const facts = parseHealthOutput(['@@nb-health v1', '@@nb-health section system', `current=${running}`, `booted=${running}`, 'now_epoch=7200', 'profile_epoch=3600', '@@nb-health end', ''].join('\n'));
    return { host: t.host, target: '-', status: 'ok', collectedAt: '2026-12-01T00:00:00Z', seconds: 1, checks: [], counts: countChecks([]), ...(opts.includeFacts ? { facts } : {}) };
  };
  // The flake's side: web1 evaluates to what it runs, the others to something new.
  const run: Runner = async (argv, opts) => {
    if (argv[0] !== 'nix') return runCommand(argv, opts);
    const host = /nixosConfigurations\."([^"]+)"/.exec(argv.join(' '))![1]!;
    return { argv, code: 0, signal: null, stdout: host === 'web1' ? running : `/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-${host}`, stderr: '', durationMs: 1 };
  };
  const hosts = ['web1', 'web2', 'web3'];
  for (const json of [false, true]) {
    calls.length = 0;
    const { reports } = await runStatus({ ...app(), run }, { hosts, flakeDir, parallel: 3, json, strict: false, drift: true }, undefined, collect);
    assert.deepEqual(calls.map((c) => c.host).sort(), hosts, 'one collection per host');
    assert.ok(calls.every((c) => c.includeFacts), 'the report keeps the facts the drift needs');
    assert.deepEqual(reports.map((r) => r.drift?.state), ['up to date', 'drift', 'drift']);
    assert.deepEqual(reports.map((r) => r.drift?.generationAgeSeconds), [3600, 3600, 3600]);
    assert.equal(reports.every((r) => 'facts' in r), json, 'the raw facts are shown only with --json');
  }
});

test('runPool: at most n at a time, every item once, results in input order', async () => {
  for (const n of [1, 2, 5, 10]) {
    let inFlight = 0;
    let max = 0;
    const items = [5, 1, 4, 2, 3, 0, 6];
    const out = await runPool(items, n, async (x) => {
      max = Math.max(max, ++inFlight);
      await turns(x + 1);
      inFlight--;
      return x * 10;
    });
    assert.equal(max, Math.min(n, items.length), `n=${n}`);
    assert.deepEqual(out, items.map((x) => x * 10));
  }
});

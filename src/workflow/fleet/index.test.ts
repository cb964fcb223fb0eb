/**
 * `rebuild --hosts a,b --parallel N`: the host list, the pool (never more than N at once, results
 * in host order, a failure does not stop the others) and the summary table. runFleet is run for
 * real on hosts that fail before touching anything (no manifest, a broken one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../../test/helpers/tmp.js';
import type { AppContext } from '../../context.js';
import { isBootstrapError } from '../../errors.js';
import { Output } from '../../ports/output.js';
import { createPrompter } from '../../ports/prompter.js';
import { buildFleetTable, runFleet, type FleetResult } from './index.js';
import { parseHostList, runPool } from '../shared/pool.js';

test('host lists: trimmed, empty items dropped; none, a bad name or a duplicate is a usage error', () => {
  assert.deepEqual(parseHostList(' web1, web2 ,,db1 '), ['web1', 'web2', 'db1']);
  const usage = (code: string, re: RegExp) => (e: unknown) => isBootstrapError(e) && e.kind === 'usage' && e.code === code && re.test(e.message);
  assert.throws(() => parseHostList(' , '), usage('bad-flag', /at least one host/));
  assert.throws(() => parseHostList('web1,web1'), usage('bad-flag', /twice/));
  assert.throws(() => parseHostList('web1,../etc'), (e) => isBootstrapError(e) && e.kind === 'usage');
  assert.throws(() => parseHostList('web1,-x'), (e) => isBootstrapError(e) && e.kind === 'usage');
});

/** Work items that wait until the test releases them, recording how many run at once. */
function gatedWork() {
  const gates = new Map<string, () => void>();
  const started: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const work = (item: string) =>
    new Promise<string>((resolve, reject) => {
      started.push(item);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      gates.set(item, () => {
        inFlight--;
        if (item.startsWith('bad')) reject(new Error(`${item} failed`));
        else resolve(`${item}:done`);
      });
    });
  const release = async (item: string) => {
    gates.get(item)!();
    for (let i = 0; i < 5; i++) await Promise.resolve(); // let the worker take its next item
  };
  return { work, release, started, get inFlight() { return inFlight; }, get max() { return maxInFlight; } };
}

test('the pool runs at most N at a time and starts the next item only when one finishes', async () => {
  const g = gatedWork();
  const items = ['a', 'b', 'c', 'd', 'e'];
  const done = runPool(items, 2, g.work);
  await Promise.resolve();
  assert.deepEqual(g.started, ['a', 'b']);
  await g.release('b'); // finishing out of order frees one slot
  assert.deepEqual(g.started, ['a', 'b', 'c']);
  assert.equal(g.inFlight, 2);
  await g.release('a');
  await g.release('c');
  assert.deepEqual(g.started, ['a', 'b', 'c', 'd', 'e']);
  await g.release('e');
  await g.release('d');
  // Results in the order of the items, not of finishing.
  assert.deepEqual(await done, ['a:done', 'b:done', 'c:done', 'd:done', 'e:done']);
  assert.equal(g.max, 2);
});

test('the pool: N above the item count, N of 1, and no items', async () => {
  const wide = gatedWork();
  const p = runPool(['a', 'b'], 8, wide.work);
  await Promise.resolve();
  assert.deepEqual(wide.started, ['a', 'b']);
  await wide.release('a');
  await wide.release('b');
  assert.deepEqual(await p, ['a:done', 'b:done']);

  const serial = gatedWork();
  const s = runPool(['x', 'y', 'z'], 1, serial.work);
  await Promise.resolve();
  for (const item of ['x', 'y', 'z']) {
    assert.equal(serial.started.at(-1), item);
    assert.equal(serial.inFlight, 1);
    await serial.release(item);
  }
  assert.deepEqual(await s, ['x:done', 'y:done', 'z:done']);
  assert.deepEqual(await runPool([], 3, async () => assert.fail('no work')), []);
});

test('a rejected item is not swallowed: the pool rejects with its error', async () => {
  const g = gatedWork();
  const p = runPool(['a', 'bad1', 'c'], 2, g.work);
  await Promise.resolve();
  await g.release('bad1');
  await assert.rejects(p, /bad1 failed/);
});

function app(dir: string) {
  const log: string[] = [];
  const w = { write: (t: string) => void log.push(t) };
  const ctx = {
    out: new Output(w, w, { color: false }),
    prompts: createPrompter(false),
    clock: { now: () => new Date('2026-02-03T04:05:06.789Z'), sleep: async () => {} },
    env: { PATH: '/nonexistent', HOME: dir },
    cwd: dir,
    signal: new AbortController().signal,
    run: (() => assert.fail('nothing may run a command')) as never,
  } satisfies AppContext;
  return { ctx, text: () => log.join('') };
}

test('runFleet: every host is tried, each failure is its own, in host order, with a log per host', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'flake.nix'), '{ }\n');
    await mkdir(join(dir, 'hosts', 'broken'), { recursive: true });
    await writeFile(join(dir, 'hosts', 'broken', 'bootstrap.toml'), 'this is = = not toml\n');
    const { ctx, text } = app(dir);
    const results = await runFleet(ctx, { hosts: ['missing1', 'broken', 'missing2'], parallel: 2, answers: {}, flakeDir: '.', resume: false, json: false });
    assert.deepEqual(results.map((r) => r.host), ['missing1', 'broken', 'missing2']);
    assert.ok(results.every((r) => !r.ok));
    assert.equal(results[0]!.error!.code, 'no-manifest');
    assert.equal(results[2]!.error!.code, 'no-manifest');
    assert.notEqual(results[1]!.error!.code, 'no-manifest', 'the broken manifest fails on its own terms');
    const logs = (await readdir(join(dir, '.bootstrap', 'logs'))).sort();
    assert.deepEqual(logs, ['fleet-broken-2026-02-03T04-05-06Z.log', 'fleet-missing1-2026-02-03T04-05-06Z.log', 'fleet-missing2-2026-02-03T04-05-06Z.log']);
    assert.match(await readFile(results[0]!.log, 'utf8'), /missing1.*does not exist/);
    const out = text();
    assert.match(out, /rebuilding 3 host\(s\), 2 at a time/);
    assert.match(out, /\[missing1\] .*does not exist/, 'terminal lines are prefixed with the host');
    assert.match(out, /^missing2 +FAILED +\d+\.\ds +\S/m, 'the table has a row per host');
  });
});

test('runFleet --json prints one document with ok false when any host failed', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'flake.nix'), '{ }\n');
    const { ctx, text } = app(dir);
    await runFleet(ctx, { hosts: ['web1'], parallel: 4, answers: {}, flakeDir: dir, resume: false, json: true });
    const doc = JSON.parse(text().slice(text().indexOf('{'))) as { ok: boolean; hosts: FleetResult[] };
    assert.equal(doc.ok, false);
    assert.deepEqual(doc.hosts.map((h) => [h.host, h.ok, h.error?.code]), [['web1', false, 'no-manifest']]);
  });
});

test('the fleet table: a column per field, ok, unhealthy or FAILED with the reason', () => {
  const rows: FleetResult[] = [
    { host: 'web1', ok: true, seconds: 61.25, log: 'l1' },
    { host: 'database-primary', ok: true, unhealthy: true, seconds: 5, log: 'l2' },
    { host: 'db2', ok: false, seconds: 0.04, error: { code: 'disk-changed', message: 'the install disk changed' }, log: 'l3' },
  ];
  assert.equal(
    buildFleetTable(rows),
    [
      'HOST              STATUS    TIME     DETAIL',
      'web1              ok        61.3s    ',
      'database-primary  unhealthy 5.0s     ',
      'db2               FAILED    0.0s     the install disk changed',
    ].join('\n'),
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { Output } from '../ports/output.js';
import { failure, isBootstrapError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { withTempDir } from '../../test/helpers/tmp.js';
import { runSteps, planStart, type Step, type StepContext } from './step.js';
import { buildJournalPaths, parseJournal, planResumeIndex, readJournal, type JournalEntry } from './journal.js';
import { acquireHostLock } from './host-lock.js';

function makeCtx(signal = new AbortController().signal): StepContext & { log: string[]; text: () => string } {
  const log: string[] = [];
  const w = { write: (t: string) => void log.push(t) };
  let t = Date.parse('2026-01-01T00:00:00Z');
  return {
    out: new Output(w, w, { color: false }),
    signal,
    clock: { now: () => new Date((t += 1000)), sleep: async () => {} },
    log,
    text: () => log.join(''),
  };
}

/** Steps a..e that record their runs; `failAt` makes one throw. */
function makeSteps(ran: string[], failAt?: { id: string; error: Error }): Step<StepContext>[] {
  return ['a', 'b', 'c', 'd', 'e'].map((id) => ({
    id,
    title: `Step ${id}`,
    run: async () => {
      ran.push(id);
      if (failAt?.id === id) throw failAt.error;
    },
  }));
}

const statuses = (entries: JournalEntry[], runId: string) =>
  entries.filter((e) => e.runId === runId).map((e) => `${e.stepId}:${e.status}`);

test('a full run journals started and done for each step and shows tasks', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ran: string[] = [];
    const ctx = makeCtx();
    const res = await runSteps(makeSteps(ran), ctx, { journal });
    assert.deepEqual(ran, ['a', 'b', 'c', 'd', 'e']);
    const entries = await readJournal(journal);
    assert.equal(entries.length, 10);
    assert.deepEqual(statuses(entries, res.runId).slice(0, 2), ['a:started', 'a:done']);
    assert.ok(entries.every((e) => e.startedAt && (e.status === 'started' || e.endedAt)));
    assert.match(ctx.text(), /✔ Step e/);
    await assert.rejects(stat(journal.lockPath), /ENOENT/); // lock released
  });
});

test('resume continues after the last finished step; no finished step runs twice', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ran: string[] = [];
    await assert.rejects(runSteps(makeSteps(ran, { id: 'c', error: failure('boom', 'disko went wrong') }), makeCtx(), { journal }), /disko went wrong/);
    assert.deepEqual(ran, ['a', 'b', 'c']);
    const first = await readJournal(journal);
    const failed = first.find((e) => e.status === 'failed');
    assert.deepEqual(failed?.error, { code: 'boom', message: 'disko went wrong' });

    // second failure further on, then a third resume finishes
    const ran2: string[] = [];
    await assert.rejects(runSteps(makeSteps(ran2, { id: 'd', error: new Error('install broke') }), makeCtx(), { journal, resume: true }));
    assert.deepEqual(ran2, ['c', 'd']);
    const ran3: string[] = [];
    const ctx3 = makeCtx();
    const res3 = await runSteps(makeSteps(ran3), ctx3, { journal, resume: true });
    assert.deepEqual(ran3, ['d', 'e']);
    assert.deepEqual(res3.skipped, ['a', 'b', 'c']);
    assert.match(ctx3.text(), /Resuming run .* at "Step d"/);
    assert.deepEqual(statuses(await readJournal(journal), res3.runId), ['a:skipped', 'b:skipped', 'c:skipped', 'd:started', 'd:done', 'e:started', 'e:done']);

    // everything finished: resume runs nothing
    const ran4: string[] = [];
    await runSteps(makeSteps(ran4), makeCtx(), { journal, resume: true });
    assert.deepEqual(ran4, []);
  });
});

test('from restarts at a step regardless of the journal; unknown step is a usage error', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    await runSteps(makeSteps([]), makeCtx(), { journal });
    const ran: string[] = [];
    await runSteps(makeSteps(ran), makeCtx(), { journal, from: 'b', resume: true });
    assert.deepEqual(ran, ['b', 'c', 'd', 'e']);
    await assert.rejects(runSteps(makeSteps([]), makeCtx(), { journal, from: 'zz' }), (e) => isBootstrapError(e) && e.code === 'unknown-step' && e.kind === 'usage');
  });
});

test('journal paths refuse host names that are not plain names', () => {
  assert.equal(buildJournalPaths('/f', 'web1').path, '/f/.bootstrap/state/web1/journal.jsonl');
  assert.throws(() => buildJournalPaths('/f', '../etc'), (e) => isBootstrapError(e) && e.code === 'bad-host-name');
});

test('planResumeIndex: empty journal starts at 0; a started-but-unfinished step reruns', () => {
  assert.equal(planResumeIndex(['a', 'b'], []), 0);
  const e = (stepId: string, status: JournalEntry['status'], runId = 'r1'): JournalEntry => ({ runId, stepId, status, startedAt: 'x' });
  assert.equal(planResumeIndex(['a', 'b', 'c'], [e('a', 'started'), e('a', 'done'), e('b', 'started')]), 1);
  // only the last run counts
  assert.equal(planResumeIndex(['a', 'b', 'c'], [e('a', 'done'), e('b', 'done'), e('a', 'failed', 'r2')]), 0);
  assert.equal(planStart(['a', 'b'], [], { from: 'b', resume: true }), 1);
});

test('skip() reasons are journaled and shown; verify() failure marks the step failed', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ctx = makeCtx();
    const steps: Step<StepContext>[] = [
      { id: 'cache', title: 'Binary cache', skip: () => 'no cache configured', run: async () => assert.fail('must not run') },
      { id: 'verify', title: 'Verify', run: async () => {}, verify: async () => { throw failure('host-key-mismatch', 'wrong key'); } },
    ];
    await assert.rejects(runSteps(steps, ctx, { journal }), /wrong key/);
    const entries = await readJournal(journal);
    assert.equal(entries[0]!.status, 'skipped');
    assert.equal(entries[0]!.detail, 'no cache configured');
    assert.equal(entries.at(-1)!.status, 'failed');
    assert.match(ctx.text(), /Binary cache — skipped: no cache configured/);
  });
});

test('an abort during a step is journaled as interrupted, with secrets redacted, and the lock is freed', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ac = new AbortController();
    const secret = 'hunter2-luks-passphrase-xyz';
    registerSecret(secret);
    const steps: Step<StepContext>[] = [
      { id: 'disko', title: 'Format', run: async () => {} },
      {
        id: 'install',
        title: 'Install',
        run: async (c) => {
          ac.abort();
          if (c.signal.aborted) throw new Error(`child killed while holding ${secret}`);
        },
      },
      { id: 'reboot', title: 'Reboot', run: async () => assert.fail('must not run') },
    ];
    await assert.rejects(runSteps(steps, makeCtx(ac.signal), { journal }), (e) => isBootstrapError(e) && e.code === 'interrupted');
    const raw = await readFile(journal.path, 'utf8');
    assert.ok(!raw.includes(secret), 'secret leaked into the journal');
    const last = parseJournal(raw).at(-1)!;
    assert.equal(last.stepId, 'install');
    assert.equal(last.status, 'interrupted');
    assert.match(last.error!.message, /\[REDACTED\]/);
    await assert.rejects(stat(journal.lockPath), /ENOENT/);
    // and --resume picks up at the interrupted step
    assert.equal(planResumeIndex(['disko', 'install', 'reboot'], parseJournal(raw)), 1);
  });
});

test('a second runner on the same host gets host-locked naming the pid', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const slow: Step<StepContext>[] = [{ id: 'a', title: 'A', run: async () => { entered(); await gate; } }];
    const first = runSteps(slow, makeCtx(), { journal });
    await inside;
    let saved = 0;
    await assert.rejects(
      runSteps(makeSteps([]), makeCtx(), { journal, onLocked: async () => void saved++ }),
      (e) => isBootstrapError(e) && e.code === 'host-locked' && e.message.includes(`pid ${process.pid}`),
    );
    assert.equal(saved, 0, 'a refused run saves no state (it would rewrite the first run\'s)');
    release();
    await first;
    await runSteps(makeSteps([]), makeCtx(), { journal, onLocked: async () => void saved++ });
    assert.equal(saved, 1, 'a run that holds the lock saves its state');
    await runSteps(makeSteps([]), makeCtx(), { journal }); // free again
  });
});

test('a stale lock of a dead pid is taken over with a warning', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    // a real pid that is certainly dead: a child that already exited
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    await mkdir(journal.dir, { recursive: true });
    await writeFile(journal.lockPath, JSON.stringify({ pid: deadPid, startedAt: '2026-01-01T00:00:00Z' }));
    const ctx = makeCtx();
    const ran: string[] = [];
    await runSteps(makeSteps(ran), ctx, { journal });
    assert.equal(ran.length, 5);
    assert.match(ctx.text(), new RegExp(`warning: taking over the lock of web1 from pid ${deadPid}`));
  });
});

test('a lock held by a live process elsewhere in the system is respected', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const held = await acquireHostLock(journal.lockPath, 'web1', { isAlive: () => true });
    try {
      const other = acquireHostLock(journal.lockPath, 'web1', { isAlive: () => true });
      await assert.rejects(other, (e) => isBootstrapError(e) && e.code === 'host-locked' && /remove .*lock/.test(e.hint ?? ''));
    } finally {
      await held.release();
    }
  });
});

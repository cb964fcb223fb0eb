/**
 * The install's step list and how the runner walks it: nothing touches the target before
 * preflight, a failing step stops the run where it is and is journaled, --resume and --from start
 * where they should, an interrupt between steps starts nothing more. The steps' own work is
 * replaced by a recorder; their ids, order and skip() rules are the real ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withTempDir } from '../../../test/helpers/tmp.js';
import { ConfigSchema } from '../../config/schema.js';
import type { SecretsMode } from '../../config/sections/secrets-mode.js';
import { failure, isBootstrapError } from '../../errors.js';
import { Output } from '../../ports/output.js';
import { buildJournalPaths, readJournal, type JournalEntry } from '../journal.js';
import { runSteps, type Step } from '../step.js';
import type { InstallCtx, InstallMode } from './context.js';
import { INSTALL_STEPS } from './run-install.js';

const ids = INSTALL_STEPS.map((s) => s.id);
const TOUCH_TARGET = ['kexec', 'disko', 'install', 'reboot'];

test('the order of the job: files, keys and recipients, then preflight, then the phases, verify, restore', () => {
  assert.deepEqual(ids, ['write', 'keys', 'recipients', 'preflight', 'kexec', 'disko', 'install', 'reboot', 'verify', 'restore']);
  assert.equal(new Set(ids).size, ids.length);
  for (const t of TOUCH_TARGET) assert.ok(ids.indexOf('preflight') < ids.indexOf(t), `preflight before ${t}`);
});

function ctxOf(o: { mode?: InstallMode; sops?: SecretsMode; signal?: AbortSignal } = {}) {
  const log: string[] = [];
  const w = { write: (t: string) => void log.push(t) };
  let t = Date.parse('2026-01-01T00:00:00Z');
  const ctx = {
    mode: o.mode ?? 'new-host',
    out: new Output(w, w, { color: false }),
    signal: o.signal ?? new AbortController().signal,
    clock: { now: () => new Date((t += 1000)), sleep: async () => {} },
    loaded: { config: ConfigSchema.parse({ sops: { mode: o.sops ?? 'sops' } }) },
  } as unknown as InstallCtx;
  return { ctx, text: () => log.join('') };
}

/** The install steps with recorded runs; `fail` makes one throw, `onRun` runs inside a step. */
function recorded(ran: string[], o: { fail?: string; onRun?: (id: string) => void } = {}): Step<InstallCtx>[] {
  return INSTALL_STEPS.map((s) => ({
    ...s,
    run: async () => {
      ran.push(s.id);
      o.onRun?.(s.id);
      if (s.id === o.fail) throw failure('flake-check-failed', `${s.id} failed`);
    },
  }));
}

const runOf = (entries: JournalEntry[]) => entries.filter((e) => e.runId === entries.at(-1)!.runId).map((e) => `${e.stepId}:${e.status}`);

test('a new host runs every step but restore; without sops, recipients is skipped with the reason', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ran: string[] = [];
    const { ctx, text } = ctxOf({ sops: 'none' });
    const res = await runSteps(recorded(ran), ctx, { journal });
    assert.deepEqual(ran, ['write', 'keys', 'preflight', ...TOUCH_TARGET, 'verify']);
    assert.deepEqual(res.skipped, ['recipients', 'restore']);
    const entries = await readJournal(journal);
    assert.equal(entries.find((e) => e.stepId === 'recipients')!.detail, 'sops mode is "none" in bootstrap.toml');
    assert.equal(entries.find((e) => e.stepId === 'restore')!.detail, 'only `bootstrap recover` restores backups');
    assert.match(text(), /restore the latest backup onto the host — skipped: only `bootstrap recover`/);
    const recover: string[] = [];
    await runSteps(recorded(recover), ctxOf({ mode: 'recover' }).ctx, { journal });
    assert.equal(recover.at(-1), 'restore');
  });
});

test('a failing preflight stops the run before the target is touched, and is journaled as failed', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ran: string[] = [];
    await assert.rejects(runSteps(recorded(ran, { fail: 'preflight' }), ctxOf().ctx, { journal }), (e) => isBootstrapError(e) && e.code === 'flake-check-failed');
    assert.deepEqual(ran, ['write', 'keys', 'recipients', 'preflight']);
    const entries = await readJournal(journal);
    assert.deepEqual(runOf(entries).slice(-2), ['preflight:started', 'preflight:failed']);
    assert.deepEqual(entries.at(-1)!.error, { code: 'flake-check-failed', message: 'preflight failed' });
    assert.ok(!entries.some((e) => TOUCH_TARGET.includes(e.stepId)), 'no phase is even journaled');

    // --resume starts again at preflight: the files and keys are not redone.
    const again: string[] = [];
    const { ctx, text } = ctxOf();
    const res = await runSteps(recorded(again), ctx, { journal, resume: true });
    assert.deepEqual(again, ['preflight', ...TOUCH_TARGET, 'verify']);
    assert.deepEqual(res.skipped, ['write', 'keys', 'recipients', 'restore']);
    assert.match(text(), /Resuming run .* at "build the system and check the flake/);
  });
});

test('a failed disko phase resumes at disko, not at kexec (the installer is already booted)', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    await assert.rejects(runSteps(recorded([], { fail: 'disko' }), ctxOf().ctx, { journal }));
    const again: string[] = [];
    await runSteps(recorded(again), ctxOf().ctx, { journal, resume: true });
    assert.deepEqual(again, ['disko', 'install', 'reboot', 'verify']);
  });
});

test('--from names a step: the steps before it are journaled as skipped "before --from"', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ran: string[] = [];
    await runSteps(recorded(ran), ctxOf().ctx, { journal, from: 'keys' });
    assert.deepEqual(ran, ['keys', 'recipients', 'preflight', ...TOUCH_TARGET, 'verify']);
    const write = (await readJournal(journal)).find((e) => e.stepId === 'write')!;
    assert.deepEqual([write.status, write.detail], ['skipped', 'before --from keys']);
    await assert.rejects(runSteps(recorded([]), ctxOf().ctx, { journal, from: 'partition' }), (e) => isBootstrapError(e) && e.code === 'unknown-step' && /write, keys, recipients/.test(e.hint ?? ''));
  });
});

test('an interrupt between steps journals the next step as interrupted and starts nothing more', async () => {
  await withTempDir(async (dir) => {
    const journal = buildJournalPaths(dir, 'web1');
    const ac = new AbortController();
    const ran: string[] = [];
    // The signal arrives as preflight finishes (it completes: nothing in it saw the abort).
    await assert.rejects(
      runSteps(recorded(ran, { onRun: (id) => id === 'preflight' && ac.abort() }), ctxOf({ signal: ac.signal }).ctx, { journal }),
      (e) => isBootstrapError(e) && e.code === 'interrupted' && /before "boot the NixOS installer/.test(e.message),
    );
    assert.deepEqual(ran, ['write', 'keys', 'recipients', 'preflight']);
    assert.deepEqual(runOf(await readJournal(journal)).slice(-3), ['preflight:started', 'preflight:done', 'kexec:interrupted']);
    const again: string[] = [];
    await runSteps(recorded(again), ctxOf().ctx, { journal, resume: true });
    assert.equal(again[0], 'kexec');
  });
});

test('duplicate step ids are refused before anything runs', async () => {
  await withTempDir(async (dir) => {
    const ran: string[] = [];
    const steps = recorded(ran);
    await assert.rejects(runSteps([...steps, steps[0]!], ctxOf().ctx, { journal: buildJournalPaths(dir, 'web1') }), /duplicate step ids/);
    assert.deepEqual(ran, []);
  });
});

/**
 * The wizard's walk through its questions (runQuestions), "← back", the review's change of one
 * answer (runChangeAnswer) and the review list, with scripted steps; and the order of the real list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Prompter } from '../../ports/prompter.js';
import type { InstallAnswers } from '../install/answers.js';
import { BACK, runChangeAnswer, runQuestions, WIZARD_STEPS, type StepId, type WizardCtx, type WizardStep } from './ask.js';
import { listReviewAnswers } from './review.js';

const noPrompts = (interactive: boolean): Prompter => ({
  interactive,
  input: async () => assert.fail('a scripted step asks nothing itself'),
  select: async () => assert.fail('a scripted step asks nothing itself'),
  confirm: async () => assert.fail('a scripted step asks nothing itself'),
});

function ctxOf(interactive = true): WizardCtx & { probes: number } {
  const ctx = {
    probes: 0,
    app: { prompts: noPrompts(interactive), cwd: '/', env: {}, run: undefined as never, signal: new AbortController().signal },
    profiles: [],
    report: async () => {
      ctx.probes++;
      return assert.fail('scripted steps need no report');
    },
    identityFile: () => undefined,
  };
  return ctx;
}

type Reply = string | typeof BACK;

/** Steps that answer from a script: `replies[id]` is consumed one reply per ask. */
function scripted(ids: StepId[], replies: Partial<Record<StepId, Reply[]>>, o: { applies?: Partial<Record<StepId, (a: InstallAnswers) => boolean>>; then?: Partial<Record<StepId, StepId[]>> } = {}) {
  const log: Array<{ id: StepId; canGoBack: boolean; had: string | undefined }> = [];
  const key = (id: StepId) => id as keyof InstallAnswers;
  const steps: WizardStep[] = ids.map((id) => ({
    id,
    label: id,
    given: (a) => a[key(id)] !== undefined,
    ...(o.applies?.[id] ? { applies: async (_c: WizardCtx, a: InstallAnswers) => o.applies![id]!(a) } : {}),
    show: async (_c, a) => String(a[key(id)] ?? '-'),
    async ask(_c, a, opts) {
      log.push({ id, canGoBack: opts.canGoBack, had: a[key(id)] as string | undefined });
      const r = replies[id]?.shift();
      if (r === undefined) assert.fail(`${id} asked more often than scripted`);
      return r === BACK ? BACK : { ...a, [id]: r };
    },
    ...(o.then?.[id] ? { then: o.then[id] } : {}),
  }));
  return { steps, log, asked: () => log.map((l) => l.id) };
}

test('questions are asked in order; a given answer is never asked, even on the way back', async () => {
  const s = scripted(['host', 'profile', 'target', 'layout'], { host: ['web1'], profile: ['p1'], layout: [BACK, 'l1'] });
  // "layout" goes back: to "profile" (the last asked), not to the given "target" just before it.
  s.steps[1]!.ask = async (_c, a, o) => {
    s.log.push({ id: 'profile', canGoBack: o.canGoBack, had: a.profile });
    return { ...a, profile: a.profile ? 'p2' : 'p1' };
  };
  const a = await runQuestions(s.steps, ctxOf(), { target: 'root@h' });
  assert.deepEqual(s.asked(), ['host', 'profile', 'layout', 'profile', 'layout']);
  assert.deepEqual(a, { host: 'web1', target: 'root@h', profile: 'p2', layout: 'l1' });
  assert.equal(s.log[3]!.had, 'p1', 'asked again with the earlier answer as default');
});

test('the first question asked cannot go back; every later one can', async () => {
  const s = scripted(['host', 'target', 'swap'], { target: ['root@h'], swap: ['0'] });
  await runQuestions(s.steps, ctxOf(), { host: 'web1' });
  assert.deepEqual(s.log.map((l) => [l.id, l.canGoBack]), [['target', false], ['swap', true]]);
});

test('each "back" returns to the question asked before it; going on asks the later ones again', async () => {
  const s = scripted(['host', 'target', 'disk', 'swap'], { host: ['a', 'b'], target: ['t1', 't2'], disk: ['d1'], swap: [BACK, '1G'] });
  s.steps[2]!.ask = async (_c, a, o) => {
    s.log.push({ id: 'disk', canGoBack: o.canGoBack, had: a.disk });
    return a.disk ? { ...a, disk: 'd2' } : a.target === 't1' ? BACK : { ...a, disk: 'd1' };
  };
  // host a → target t1 → disk "back" → target t2 → disk d1 → swap "back" → disk d2 → swap 1G
  const a = await runQuestions(s.steps, ctxOf(), {});
  assert.deepEqual(s.asked(), ['host', 'target', 'disk', 'target', 'disk', 'swap', 'disk', 'swap']);
  assert.deepEqual(a, { host: 'a', target: 't2', disk: 'd2', swap: '1G' });
});

test('a step that does not apply is skipped, and decided on the answers so far', async () => {
  const s = scripted(['layout', 'subvolumes', 'swap'], { layout: ['single-ext4'], swap: ['0'] }, { applies: { subvolumes: (a) => a.layout === 'single-btrfs' } });
  assert.deepEqual(await runQuestions(s.steps, ctxOf(), {}), { layout: 'single-ext4', swap: '0' });
  assert.deepEqual(s.asked(), ['layout', 'swap']);
  const t = scripted(['layout', 'subvolumes'], { layout: ['single-btrfs'], subvolumes: ['x'] }, { applies: { subvolumes: (a) => a.layout === 'single-btrfs' } });
  await runQuestions(t.steps, ctxOf(), {});
  assert.deepEqual(t.asked(), ['layout', 'subvolumes']);
});

test('changing an answer at the review asks it and then its dependents, without "back"', async () => {
  const applies = { subvolumes: (a: InstallAnswers) => a.layout === 'single-btrfs' };
  const s = scripted(['profile', 'layout', 'encrypt', 'subvolumes'], { layout: ['single-btrfs'], encrypt: ['no'], subvolumes: ['data'] }, { applies, then: { layout: ['encrypt', 'subvolumes'] } });
  const a = await runChangeAnswer(s.steps, ctxOf(), { profile: 'p', layout: 'single-ext4', encrypt: 'x' as never }, 'layout');
  assert.deepEqual(s.asked(), ['layout', 'encrypt', 'subvolumes']);
  assert.ok(s.log.every((l) => !l.canGoBack));
  assert.deepEqual(a, { profile: 'p', layout: 'single-btrfs', encrypt: 'no', subvolumes: 'data' });

  // Switching to ext4 drops the subvolumes instead of keeping them silently.
  const t = scripted(['layout', 'encrypt', 'subvolumes'], { layout: ['single-ext4'], encrypt: ['no'] }, { applies, then: { layout: ['encrypt', 'subvolumes'] } });
  const b = await runChangeAnswer(t.steps, ctxOf(), { layout: 'single-btrfs', subvolumes: ['data'] }, 'layout');
  assert.deepEqual(t.asked(), ['layout', 'encrypt']);
  assert.deepEqual(b, { layout: 'single-ext4', encrypt: 'no' });
});

test('the review lists the answers that apply, and a given one that does not', async () => {
  const applies = { subvolumes: (a: InstallAnswers) => a.layout === 'single-btrfs', swap: () => false };
  const s = scripted(['host', 'layout', 'subvolumes', 'swap'], {}, { applies });
  const listed = await listReviewAnswers(s.steps, ctxOf(), { host: 'web1', layout: 'single-ext4', swap: '2G' });
  assert.deepEqual(listed, [{ id: 'host', text: 'host: web1' }, { id: 'layout', text: 'layout: single-ext4' }, { id: 'swap', text: 'swap: 2G' }]);
});

test('the real list: the questions before the probe come first, dependents after what they depend on', async () => {
  const ids = WIZARD_STEPS.map((s) => s.id);
  assert.deepEqual(ids, ['host', 'target', 'login', 'profile', 'disk', 'layout', 'encrypt', 'swap', 'subvolumes']);
  for (const s of WIZARD_STEPS) for (const dep of s.then ?? []) assert.ok(ids.indexOf(dep) > ids.indexOf(s.id), `${dep} after ${s.id}`);
  // Without a terminal and with host and target given, nothing is asked and nothing probed.
  const ctx = ctxOf(false);
  const given = { host: 'web1', target: 'root@203.0.113.7' };
  assert.deepEqual(await runQuestions(WIZARD_STEPS, ctx, given), given);
  assert.equal(ctx.probes, 0);
});

/**
 * A workflow is an ordered list of steps; the runner journals each one, shows it as a task, and
 * can resume after the last finished step of the last run (`--resume`) or restart at a named one
 * (`--from`). One run per host at a time: the runner holds the host lock while it works.
 *
 * Status of a step in the journal: started → done | failed | interrupted, or skipped (its skip()
 * said so, it finished in an earlier run, or it comes before --from).
 */
import { randomBytes } from 'node:crypto';
import type { Output, Task } from '../ports/output.js';
import type { Clock } from '../context.js';
import { isBootstrapError, messageOf, usageError, failure } from '../errors.js';
import { acquireHostLock, type HostLock, type LockPorts } from './host-lock.js';
import { appendJournal, lastRun, planResumeIndex, readJournal, type Journal, type JournalEntry, type StepStatus } from './journal.js';

export interface Step<C> {
  /** Stable id, recorded in the journal and given to --from: "kexec", "disko", … */
  id: string;
  title: string;
  /** true or a reason: do not run this time (the reason is shown and journaled). */
  skip?(ctx: C): boolean | string;
  /**
   * Idempotent or resumable. `progress` is the step's task line, for sub-steps. What it returns
   * goes into the step's `done` journal entry: the bytes an installer phase sent, or a `detail`
   * (e.g. a safety check overridden by a flag).
   */
  run(ctx: C, progress: Task): Promise<void | StepRecord>;
  /** Checked after run(); a throw marks the step failed. */
  verify?(ctx: C): Promise<void>;
}

/** What a finished step adds to its journal entry. */
export type StepRecord = Pick<JournalEntry, 'transfer' | 'detail'>;

/** What the runner itself needs from a step context. */
export interface StepContext {
  out: Output;
  signal: AbortSignal;
  clock: Clock;
}

export interface RunStepsOptions {
  journal: Journal;
  /** Continue after the last finished step of the last run. */
  resume?: boolean;
  /** Start at this step id, whatever the journal says (wins over resume). */
  from?: string;
  /** Output for progress; default ctx.out. */
  out?: Output;
  /** Take the host lock (default). False when the caller already holds it. */
  lock?: boolean;
  lockPorts?: LockPorts;
  runId?: string;
  /** Runs once the host lock is held, before any step: run state a refused run must not touch. */
  onLocked?: (lock: HostLock | undefined) => Promise<void>;
}

export interface RunStepsResult {
  runId: string;
  ran: string[];
  skipped: string[];
}

export function buildRunId(now: Date): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

/**
 * The index to start at. Pure.
 * @throws usageError 'unknown-step' when `from` names no step
 */
export function planStart(stepIds: readonly string[], entries: JournalEntry[], opts: { resume?: boolean; from?: string }): number {
  if (opts.from !== undefined) {
    const i = stepIds.indexOf(opts.from);
    if (i < 0) throw usageError('unknown-step', `there is no step "${opts.from}"`, `--from takes one of: ${stepIds.join(', ')}`);
    return i;
  }
  return opts.resume ? planResumeIndex(stepIds, entries) : 0;
}

function isInterruption(e: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  return isBootstrapError(e) && e.code === 'interrupted';
}

function errorOf(e: unknown): { code: string; message: string } {
  return { code: isBootstrapError(e) ? e.code : 'internal', message: messageOf(e) };
}

/**
 * Run `steps` in order. Throws the first step's error (after journaling it); an abort of
 * ctx.signal is journaled as `interrupted` and rethrown as failure 'interrupted'.
 */
export async function runSteps<C extends StepContext>(steps: readonly Step<C>[], ctx: C, opts: RunStepsOptions): Promise<RunStepsResult> {
  const out = opts.out ?? ctx.out;
  const ids = steps.map((s) => s.id);
  if (new Set(ids).size !== ids.length) throw new Error(`runSteps: duplicate step ids in ${ids.join(', ')}`);
  const now = () => ctx.clock.now().toISOString();
  const lock = opts.lock === false ? undefined : await acquireHostLock(opts.journal.lockPath, opts.journal.host, { warn: (t) => out.warn(t), ...opts.lockPorts });
  try {
    await opts.onLocked?.(lock);
    const entries = await readJournal(opts.journal);
    const start = planStart(ids, entries, opts);
    const previous = lastRun(entries)?.runId;
    if (opts.resume && opts.from === undefined) {
      if (!previous) out.info('Nothing to resume: no earlier run is journaled; starting from the first step.');
      else if (start >= steps.length) out.info(`Every step of run ${previous} is finished; nothing to resume.`);
      else out.info(`Resuming run ${previous} at "${steps[start]!.title}".`);
    }
    const runId = opts.runId ?? buildRunId(ctx.clock.now());
    const write = (stepId: string, status: StepStatus, startedAt: string, extra: Partial<JournalEntry> = {}) =>
      appendJournal(opts.journal, { runId, stepId, status, startedAt, ...(status === 'started' ? {} : { endedAt: now() }), ...extra });
    const result: RunStepsResult = { runId, ran: [], skipped: [] };

    for (const [i, step] of steps.entries()) {
      if (i < start) {
        const detail = opts.from !== undefined ? `before --from ${opts.from}` : `finished in run ${previous}`;
        await write(step.id, 'skipped', now(), { detail });
        result.skipped.push(step.id);
        continue;
      }
      if (ctx.signal.aborted) {
        await write(step.id, 'interrupted', now(), { error: { code: 'interrupted', message: 'interrupted before this step started' } });
        throw failure('interrupted', `interrupted before "${step.title}"`, 'run again with --resume to continue');
      }
      const why = step.skip?.(ctx) ?? false;
      if (why !== false) {
        const detail = why === true ? 'not needed' : why;
        out.info(`${out.paint('dim', '-')} ${step.title} ${out.paint('dim', `— skipped: ${detail}`)}`);
        await write(step.id, 'skipped', now(), { detail });
        result.skipped.push(step.id);
        continue;
      }
      const startedAt = now();
      await write(step.id, 'started', startedAt);
      const task = out.task(step.title);
      let record: void | StepRecord;
      try {
        record = await step.run(ctx, task);
        if (step.verify) await step.verify(ctx);
      } catch (e) {
        if (isInterruption(e, ctx.signal)) {
          task.fail('interrupted');
          await write(step.id, 'interrupted', startedAt, { error: { code: 'interrupted', message: messageOf(e) } });
          if (isBootstrapError(e) && e.code === 'interrupted') throw e;
          throw failure('interrupted', `interrupted during "${step.title}"`, 'run again with --resume to continue', e);
        }
        task.fail();
        await write(step.id, 'failed', startedAt, { error: errorOf(e) });
        throw e;
      }
      task.done();
      await write(step.id, 'done', startedAt, record ? { ...record } : {});
      result.ran.push(step.id);
    }
    return result;
  } finally {
    await lock?.release();
  }
}

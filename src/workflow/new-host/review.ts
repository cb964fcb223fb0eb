/**
 * The review after the plan: install, change an answer, or quit. Nothing has been written or
 * touched when it is asked, so changing an answer costs nothing but a new plan; quitting says so.
 */
import { failure } from '../../errors.js';
import type { InstallAnswers } from '../install/answers.js';
import { BACK } from './choices.js';
import type { StepId, WizardCtx, WizardStep } from './ask.js';

export type ReviewChoice = { kind: 'install' } | { kind: 'change'; id: StepId };

/** The answers the review lists: every step that applies now, or was given as a flag. */
export async function listReviewAnswers(steps: readonly WizardStep[], ctx: WizardCtx, a: InstallAnswers): Promise<Array<{ id: StepId; text: string }>> {
  const out: Array<{ id: StepId; text: string }> = [];
  for (const s of steps) {
    // A step that does not apply is listed only when it holds an answer (a flag), so it can be changed.
    const applies = !s.applies || ctx.app.prompts.interactive === false || (await s.applies(ctx, a)) || s.given(a);
    if (!applies) continue;
    out.push({ id: s.id, text: `${s.label}: ${await s.show(ctx, a)}` });
  }
  return out;
}

/** Ask until the person installs or picks an answer to change; "quit" stops with nothing changed. */
export async function askReview(steps: readonly WizardStep[], ctx: WizardCtx, a: InstallAnswers): Promise<ReviewChoice> {
  const prompts = ctx.app.prompts;
  for (;;) {
    const what = await prompts.select({
      message: 'Install with these answers?',
      flag: '--yes --confirm-disk',
      choices: [
        { value: 'install', name: 'install', description: 'type the host name next to confirm the wipe' },
        { value: 'change', name: 'change an answer', description: 'the plan is made again; nothing has been written yet' },
        { value: 'quit', name: 'quit', description: 'stop here: nothing was changed' },
      ],
      default: 'install',
    });
    if (what === 'install') return { kind: 'install' };
    if (what === 'quit') throw failure('interrupted', 'stopped at the review: nothing was changed', 'run `bootstrap new-host` again when ready');
    const answers = await listReviewAnswers(steps, ctx, a);
    const id = await prompts.select<string>({
      message: 'Which answer?',
      flag: '--answers FILE',
      choices: [...answers.map((x) => ({ value: x.id, name: x.text })), { value: BACK, name: '← back to the review' }],
    });
    if (id !== BACK) return { kind: 'change', id: id as StepId };
  }
}

/**
 * `rebuild|recover HOST --via-rescue`: the rescue steps run first, in the same run (one run id in
 * the journal) as the install steps that follow. The install steps are run by their own runner
 * call after the probe, so the resume point of both lists is decided here, from the journal as it
 * was before this run wrote anything:
 * - --from an install step: the host is past its rescue, the rescue steps do not run;
 * - --from a rescue step: the rescue restarts there, the install runs from its first step;
 * - --resume after a run that finished the rescue: the rescue does not run again (it would reboot
 *   a host that may be in the installer by now) and the install resumes as without --via-rescue;
 * - --resume after a run that stopped in the rescue: the rescue resumes, the install starts fresh.
 */
import type { AppContext } from '../../context.js';
import { buildJournalPaths, planResumeIndex, readJournal, type JournalEntry } from '../journal.js';
import { buildRunId } from '../step.js';
import { isRescueStep, prepareRescue, runRescueSteps, type RescueSetup } from './index.js';
import { RESCUE_STEP_IDS } from './steps.js';

export interface RescueFirstInput extends RescueSetup {
  resume: boolean;
  from?: string;
}

/** How the install steps run after the rescue. `rescued`: the host just booted a fresh rescue system. */
export interface InstallRunAfterRescue {
  resume: boolean;
  from?: string;
  runId?: string;
  rescued: boolean;
}

export type RescuePlan =
  | { kind: 'past-rescue'; from: string } // --from an install step
  | { kind: 'rescue-finished' } // --resume after a run that finished the rescue
  | { kind: 'rescue'; from?: string; resume: boolean };

/** What to do with the rescue steps, from the journal before this run. Pure. */
export function planRescueRun(entries: JournalEntry[], o: { resume: boolean; from?: string }): RescuePlan {
  if (o.from !== undefined && !isRescueStep(o.from)) return { kind: 'past-rescue', from: o.from };
  if (o.from !== undefined) return { kind: 'rescue', from: o.from, resume: false };
  if (o.resume && planResumeIndex(RESCUE_STEP_IDS, entries) >= RESCUE_STEP_IDS.length) return { kind: 'rescue-finished' };
  return { kind: 'rescue', resume: o.resume };
}

export async function runRescueFirst(app: AppContext, s: RescueFirstInput): Promise<InstallRunAfterRescue> {
  const entries = await readJournal(buildJournalPaths(s.flakeDir, s.host, s.loaded.config.stateDir));
  const plan = planRescueRun(entries, { resume: s.resume, ...(s.from !== undefined ? { from: s.from } : {}) });
  if (plan.kind === 'past-rescue') {
    app.out.info(`The rescue steps do not run: --from ${plan.from} continues an install that is past them.`);
    return { resume: false, from: plan.from, rescued: false };
  }
  if (plan.kind === 'rescue-finished') {
    app.out.info('The rescue steps finished in the last run; resuming its install steps.');
    return { resume: true, rescued: false };
  }
  // Checked before the first API call: provider, credentials, operator key, trust in the rescue key.
  const c = await prepareRescue(app, {
    flakeDir: s.flakeDir, loaded: s.loaded, manifest: s.manifest, host: s.host, target: s.target, identity: s.identity, hostKey: s.hostKey, yes: s.yes,
    ...(s.waitTimeoutSeconds !== undefined ? { waitTimeoutSeconds: s.waitTimeoutSeconds } : {}),
    ...(s.sshConfig ? { sshConfig: s.sshConfig } : {}),
  });
  const runId = buildRunId(app.clock.now());
  await runRescueSteps(c, s.flakeDir, s.loaded.config.stateDir, { runId, ...(plan.from ? { from: plan.from } : { resume: plan.resume }) });
  return { resume: false, runId, rescued: true };
}

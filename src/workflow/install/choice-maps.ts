/**
 * The choice table (choices.ts) read in the two other shapes a choice takes: the host manifest's
 * record of it (rebuild and recover replay a manifest as answers) and the plan's answers
 * (render/plan.ts PlanAnswers, from which the plan writes the manifest). Pure.
 */
import type { Manifest } from '../../manifest/schema.js';
import type { PlanAnswers } from '../../render/plan.js';
import type { InstallAnswers } from './answers.js';
import { CHOICE_KEYS, INSTALL_CHOICES, type Choice } from './choices.js';

/** The manifest's choices as answers: every choice with a manifest record, in table order. */
export function buildAnswersFromManifest(m: Manifest): InstallAnswers {
  const out: Record<string, unknown> = {};
  for (const key of CHOICE_KEYS) {
    const value = (INSTALL_CHOICES[key] as Choice).manifest?.read(m);
    if (value !== undefined) out[key] = value;
  }
  return out as InstallAnswers;
}

/**
 * The plan's share of the answers: every choice the plan takes, as the plan takes it (a swap size
 * in bytes, phase limits as text). Target and host identity come from the run, not from here.
 */
export function buildPlanChoices(a: InstallAnswers): PlanAnswers {
  const out: PlanAnswers = {};
  for (const key of CHOICE_KEYS) {
    const value = a[key];
    const plan = (INSTALL_CHOICES[key] as Choice).plan;
    if (plan && value !== undefined) Object.assign(out, plan(value));
  }
  return out;
}

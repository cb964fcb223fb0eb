/**
 * The install flags, from the choice table (workflow/install/choices.ts): their OptionSpecs for
 * the command specs (choice-options.ts, which the specs import without this file's zod), and one
 * generic reader of them into InstallAnswers, the same object an answers file fills
 * (workflow/install/answers.ts).
 */
import { checkAnswers, type InstallAnswers } from '../workflow/install/answers.js';
import { CHOICE_KEYS, flagOf, type ChoiceKey } from '../workflow/install/choice-flags.js';
import type { ParsedArgs } from './args.js';

export { choiceOption, choiceOptions } from './choice-options.js';

/**
 * The answers given as flags, for the choices in `keys` (default: all). A flag the command does not
 * declare reads as absent. Booleans only when present, so they never erase the file's. No checks:
 * buildAnswersFromArgs adds them.
 */
export function readChoiceFlags(args: ParsedArgs, keys: readonly ChoiceKey[] = CHOICE_KEYS): InstallAnswers {
  const a: Record<string, unknown> = {};
  for (const key of keys) {
    const f = flagOf(key);
    if (f.kind === 'positional') continue; // HOST: the command reads its argument itself
    if (f.kind === 'boolean') {
      if (args.has(f.name)) a[key] = args.bool(f.name);
    } else if (f.kind === 'string') {
      const v = args.string(f.name);
      if (v !== undefined) a[key] = f.parse ? f.parse(v) : v;
    } else if (f.kind === 'integer') {
      if (args.has(f.name)) a[key] = args.integer(f.name, f.min, f.min, f.max);
    } else {
      const vs = args.strings(f.name);
      if (vs.length) a[key] = f.parse ? f.parse(vs) : vs;
    }
  }
  return a as InstallAnswers;
}

/** The install answers given as flags, checked: bad input is refused before any connection. */
export function buildAnswersFromArgs(args: ParsedArgs): InstallAnswers {
  return checkAnswers(readChoiceFlags(args));
}

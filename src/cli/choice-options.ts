/**
 * The install choices' flags as OptionSpecs, for the command specs. Reads only the flag lines
 * (workflow/install/choice-flags.ts), so the specs and `--help` load no zod (issue 22).
 */
import { flagOf, type ChoiceKey } from '../workflow/install/choice-flags.js';
import type { OptionSpec } from './args.js';

/** A choice's flag as an OptionSpec; `help` replaces its help line where a command means it differently. */
export function choiceOption(key: ChoiceKey, help?: string): OptionSpec {
  const f = flagOf(key);
  if (f.kind === 'positional') throw new Error(`install choice ${key} is the ${f.name} argument, not a flag`);
  return {
    name: f.name,
    type: f.kind === 'boolean' ? 'boolean' : 'string',
    ...(f.short ? { short: f.short } : {}),
    ...(f.kind === 'repeatable' ? { multiple: true } : {}),
    ...(f.kind === 'boolean' ? {} : { placeholder: f.placeholder }),
    ...(f.choices ? { choices: f.choices } : {}),
    description: help ?? f.help,
  };
}

/** Several choices' flags, in the order given (the order help shows them). */
export function choiceOptions(...keys: ChoiceKey[]): OptionSpec[] {
  return keys.map((k) => choiceOption(k));
}

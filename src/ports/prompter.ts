/**
 * The prompts port. Interactive answers come from @inquirer/prompts (imported only when a question
 * is actually asked); without a terminal every question is a usage error naming the flag that
 * answers it, so scripts never hang.
 */
import { failure, usageError } from '../errors.js';

export interface Choice<T extends string = string> {
  value: T;
  name: string;
  description?: string;
}

export interface Prompter {
  readonly interactive: boolean;
  input(q: { message: string; default?: string; flag: string; validate?: (v: string) => string | true }): Promise<string>;
  select<T extends string>(q: { message: string; choices: Choice<T>[]; default?: T; flag: string }): Promise<T>;
  confirm(q: { message: string; default?: boolean; flag: string }): Promise<boolean>;
  /**
   * A hidden answer (a secret): nothing is echoed, not even a mask. Optional so test prompters
   * need not have it; callers treat a missing one as "no terminal".
   */
  password?(q: { message: string; flag: string }): Promise<string>;
}

function notInteractive(flag: string, message: string): never {
  throw usageError('missing-answer', `no answer for "${message}" and no terminal to ask on`, `pass ${flag}`);
}

/** Ctrl-C at a prompt is the person saying stop: an interrupt (exit 130), not an internal error. */
async function asked<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof Error && e.name === 'ExitPromptError') throw failure('interrupted', 'cancelled at the prompt: nothing was changed');
    throw e;
  }
}

export function createPrompter(interactive: boolean): Prompter {
  return {
    interactive,
    async input(q) {
      if (!interactive) notInteractive(q.flag, q.message);
      const { input } = await import('@inquirer/prompts');
      return asked(input({ message: q.message, ...(q.default !== undefined ? { default: q.default } : {}), ...(q.validate ? { validate: q.validate } : {}) }));
    },
    async select(q) {
      if (!interactive) notInteractive(q.flag, q.message);
      const { select } = await import('@inquirer/prompts');
      return asked(select({ message: q.message, choices: q.choices, ...(q.default !== undefined ? { default: q.default } : {}) }));
    },
    async confirm(q) {
      if (!interactive) notInteractive(q.flag, q.message);
      const { confirm } = await import('@inquirer/prompts');
      return asked(confirm({ message: q.message, ...(q.default !== undefined ? { default: q.default } : {}) }));
    },
    async password(q) {
      if (!interactive) notInteractive(q.flag, q.message);
      const { password } = await import('@inquirer/prompts');
      return asked(password({ message: q.message }));
    },
  };
}

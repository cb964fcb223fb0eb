/**
 * The ports every command may use. Default implementations are wired in src/main.ts; tests build
 * their own. Heavier ports (secret store, S3) are created from config by factories in the command
 * that needs them, so `bootstrap --help` never loads the AWS or 1Password SDKs.
 */
import type { Output } from './ports/output.js';
import type { Prompter } from './ports/prompter.js';
import type { Runner } from './exec/run.js';

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface AppContext {
  out: Output;
  run: Runner;
  prompts: Prompter;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long steps pass it on and clean up. */
  signal: AbortSignal;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** What a command is, as the registry sees it. The implementation is imported lazily. */
import type { OptionSpec, ParsedArgs, PositionalSpec } from './args.js';
import type { AppContext } from '../context.js';

export interface CommandModule {
  /** Returns the exit code (default 0). Throw BootstrapError for expected failures. */
  run(ctx: AppContext, args: ParsedArgs): Promise<number | void>;
}

export interface CommandSpec {
  name: string; // "probe", "keys ensure"
  summary: string;
  description?: string;
  positionals: PositionalSpec[];
  options: OptionSpec[];
  examples?: string[];
  load: () => Promise<CommandModule>;
}

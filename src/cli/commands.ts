/**
 * The command registry. Each family file exports light specs (flags, help) whose `load()` imports
 * the implementation lazily, so `bootstrap --help` stays fast.
 */
import type { CommandSpec } from './spec.js';
import { doctorCommands } from './commands/doctor.js';
import { installCommands } from './commands/install.js';
import { probeCommands } from './commands/probe.js';
import { planCommands } from './commands/plan.js';
import { keysCommands } from './commands/keys.js';
import { cacheCommands } from './commands/cache.js';
import { backupCommands } from './commands/backup.js';
import { secretsCommands } from './commands/secrets.js';
import { statusCommands } from './commands/status.js';
import { rescueCommands } from './commands/rescue.js';
import { completionCommands } from './commands/completion.js';
import { deployCommands } from './commands/deploy.js';

export const COMMANDS: CommandSpec[] = [
  ...installCommands,
  ...probeCommands,
  ...planCommands,
  ...keysCommands,
  ...secretsCommands,
  ...doctorCommands,
  ...cacheCommands,
  ...backupCommands,
  ...statusCommands,
  ...deployCommands,
  ...rescueCommands,
  ...completionCommands,
];

/** Longest registered name that prefixes argv ("keys ensure web1" → "keys ensure"). */
export function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const spec = COMMANDS.find((c) => c.name === name);
    if (spec) return { spec, rest: argv.slice(words) };
  }
  return undefined;
}

/** Commands whose first word is `group` ("keys" → keys ensure, keys show). */
export function commandsInGroup(group: string): CommandSpec[] {
  return COMMANDS.filter((c) => c.name.startsWith(group + ' '));
}

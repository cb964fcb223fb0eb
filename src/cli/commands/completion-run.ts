/** `bootstrap completion SHELL` and `bootstrap completion hosts`. Wiring only (src/cli/completion.ts). */
import { loadConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import { listFlakeHosts } from '../../manifest/flake-hosts.js';
import { loadProfiles } from '../../profiles/load.js';
import { loadLayouts } from '../../render/disko/index.js';
import { COMMANDS } from '../commands.js';
import { buildCompletionModel, COMPLETION_SHELLS, completionScript, type CompletionShell } from '../completion.js';
import type { CommandModule } from '../spec.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const what = args.positionals[0]!;
  if (what === 'hosts') {
    // Called by the scripts at each TAB: the flake's hosts, one a line; no flake, no hosts.
    const loaded = await loadConfig(args.string('flake') ?? '.');
    const hosts = await listFlakeHosts(loaded);
    if (hosts.length) ctx.out.data(hosts.join('\n'));
    return 0;
  }
  if (!(COMPLETION_SHELLS as readonly string[]).includes(what)) {
    throw usageError('bad-argument', `unknown shell "${what}"`, `one of: ${COMPLETION_SHELLS.join(', ')} (or hosts)`);
  }
  const choices = {
    layout: loadLayouts().map((l) => l.name),
    profile: (await loadProfiles()).map((p) => p.name),
  };
  ctx.out.data(completionScript(what as CompletionShell, buildCompletionModel(COMMANDS, choices)));
  return 0;
};

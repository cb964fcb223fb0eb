import { usageError } from '../../errors.js';
import { mergeAnswers, readAnswersFile, type InstallAnswers } from '../../workflow/install/answers.js';
import { buildAnswersFromArgs } from '../install-flags.js';
import { runFleet } from '../../workflow/fleet/index.js';
import { parseHostList } from '../../workflow/shared/pool.js';
import { runNewHost } from '../../workflow/new-host/index.js';
import { runRebuild } from '../../workflow/rebuild/index.js';
import type { ParsedArgs } from '../args.js';
import type { CommandModule } from '../spec.js';
import type { AppContext } from '../../context.js';

async function gatherAnswers(ctx: AppContext, args: ParsedArgs): Promise<InstallAnswers> {
  const file = args.string('answers');
  const fromFile = file ? await readAnswersFile(ctx.cwd, file) : {};
  return mergeAnswers(fromFile, buildAnswersFromArgs(args));
}

function common(args: ParsedArgs) {
  const from = args.string('from');
  return { flakeDir: args.string('flake') ?? '.', resume: args.bool('resume'), ...(from ? { from } : {}), dryRun: args.bool('dry-run'), json: args.bool('json') };
}

export const runNewHostCommand: CommandModule['run'] = async (ctx, args) => {
  const answers = await gatherAnswers(ctx, args);
  const host = args.positionals[0] ?? answers.host;
  return runNewHost(ctx, { answers: { ...answers, ...(host ? { host } : {}) }, ...common(args) });
};

export const runRebuildCommand: CommandModule['run'] = async (ctx, args) => {
  const answers = await gatherAnswers(ctx, args);
  const list = args.string('hosts');
  if (list === undefined && args.has('parallel')) throw usageError('bad-flag', '--parallel only applies to a fleet: give --hosts a,b,c with it', 'e.g. `bootstrap rebuild --hosts web1,web2 --parallel 2`');
  if (list !== undefined) {
    if (args.bool('via-rescue')) throw usageError('bad-flag', '--via-rescue rescues one host at a time: give HOST, not --hosts', 'e.g. `bootstrap rebuild web1 --via-rescue -i ~/.ssh/id_ed25519`');
    if (args.positionals.length) throw usageError('bad-argument', 'give either HOST or --hosts, not both');
    const results = await runFleet(ctx, { hosts: parseHostList(list), parallel: args.integer('parallel', 4, 1, 64), answers, flakeDir: args.string('flake') ?? '.', resume: args.bool('resume'), json: args.bool('json') });
    if (ctx.signal.aborted) return 130; // Ctrl-C stopped the fleet: an interrupt, as everywhere else
    return results.every((r) => r.ok) ? (results.some((r) => r.unhealthy) ? 3 : 0) : 1;
  }
  const host = args.positional(0, 'HOST (or --hosts a,b,c)');
  return runRebuild(ctx, { mode: 'rebuild', host, answers, viaRescue: args.bool('via-rescue'), ...common(args) });
};

export const runRecoverCommand: CommandModule['run'] = async (ctx, args) => {
  const answers = await gatherAnswers(ctx, args);
  return runRebuild(ctx, { mode: 'recover', host: args.positional(0, 'HOST'), answers, viaRescue: args.bool('via-rescue'), ...common(args) });
};

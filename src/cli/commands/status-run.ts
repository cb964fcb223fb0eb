/** `bootstrap status [HOST… | --hosts a,b | --all]`. Wiring only. */
import { usageError } from '../../errors.js';
import { checkHostName } from '../../host-name.js';
import { parseHostList } from '../../workflow/shared/pool.js';
import { runStatus, runStatusWatch } from '../../workflow/status/index.js';
import type { CommandModule } from '../spec.js';
import { parseVia } from '../via-flag.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const list = args.string('hosts');
  const all = args.bool('all');
  const named = [...args.positionals];
  if ([named.length > 0, list !== undefined, all].filter(Boolean).length > 1) throw usageError('bad-argument', 'give HOST names, --hosts or --all, not more than one of them', 'see `bootstrap status --help`');
  let hosts: string[] | 'all';
  if (all) hosts = 'all';
  else if (list !== undefined) hosts = parseHostList(list);
  else if (named.length) {
    for (const h of named) checkHostName(h);
    if (new Set(named).size !== named.length) throw usageError('bad-argument', 'a host is named twice');
    hosts = named;
  } else throw usageError('missing-argument', 'missing HOST (or --hosts a,b, or --all)', 'see `bootstrap status --help`');
  const watch = args.string('watch');
  let everyMs: number | undefined;
  if (watch !== undefined) {
    const s = Number(watch);
    if (!/^\d+(\.\d+)?$/.test(watch.trim()) || !(s >= 0.5) || s > 86400) throw usageError('bad-flag', `--watch must be a number of seconds from 0.5 to 86400, got "${watch}"`, 'e.g. --watch 60');
    everyMs = Math.round(s * 1000);
  }
  const options = {
    hosts,
    flakeDir: args.string('flake') ?? '.',
    parallel: args.integer('parallel', 8, 1, 64),
    json: args.bool('json'),
    strict: args.bool('strict'),
    drift: !args.bool('no-drift'),
    ...(args.string('identity') ? { identity: args.string('identity')! } : {}),
    ...(args.string('timeout') ? { timeout: args.string('timeout')! } : {}),
    ...(args.string('ssh-config') ? { sshConfig: args.string('ssh-config')! } : {}),
    ...parseVia(args.string('via')),
  };
  if (everyMs !== undefined) return runStatusWatch(ctx, options, everyMs);
  const { exitCode } = await runStatus(ctx, options);
  if (ctx.signal.aborted) return 130;
  return exitCode;
};

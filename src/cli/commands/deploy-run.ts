/** `bootstrap deploy [HOST… | --hosts a,b | --all]`. Wiring only. */
import { usageError } from '../../errors.js';
import { checkHostName } from '../../host-name.js';
import { parseHostList } from '../../workflow/shared/pool.js';
import { runDeploy } from '../../workflow/deploy/index.js';
import { DEPLOY_STEP_IDS } from '../../workflow/deploy/step-ids.js';
import type { CommandModule } from '../spec.js';
import { parseVia } from '../via-flag.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const list = args.string('hosts');
  const all = args.bool('all');
  const named = [...args.positionals];
  if ([named.length > 0, list !== undefined, all].filter(Boolean).length > 1) throw usageError('bad-argument', 'give HOST names, --hosts or --all, not more than one of them', 'see `bootstrap deploy --help`');
  let hosts: string[] | 'all';
  if (all) hosts = 'all';
  else if (list !== undefined) hosts = parseHostList(list);
  else if (named.length) {
    for (const h of named) checkHostName(h);
    if (new Set(named).size !== named.length) throw usageError('bad-argument', 'a host is named twice');
    hosts = named;
  } else throw usageError('missing-argument', 'missing HOST (or --hosts a,b, or --all)', 'see `bootstrap deploy --help`');
  const buildOn = args.string('build-on') ?? 'local';
  if (buildOn !== 'local' && buildOn !== 'remote') throw usageError('bad-flag', `--build-on takes local or remote, got "${buildOn}"`);
  const from = args.string('from');
  if (from !== undefined && !(DEPLOY_STEP_IDS as readonly string[]).includes(from)) throw usageError('unknown-step', `there is no step "${from}"`, `--from takes one of: ${DEPLOY_STEP_IDS.join(', ')}`);
  if (from !== undefined && args.bool('resume')) throw usageError('bad-argument', '--resume and --from do not go together', 'give one of them');
  return runDeploy(ctx, {
    hosts,
    flakeDir: args.string('flake') ?? '.',
    parallel: args.integer('parallel', 1, 1, 64),
    canary: args.integer('canary', 0, 0, 64),
    confirmTimeout: args.integer('confirm-timeout', 90, 5, 3600),
    buildOn,
    resume: args.bool('resume'),
    allowLockout: args.bool('allow-lockout'),
    ...(from !== undefined ? { from } : {}),
    dryRun: args.bool('dry-run'),
    json: args.bool('json'),
    ...(args.string('identity') ? { identity: args.string('identity')! } : {}),
    ...(args.string('timeout') ? { timeout: args.string('timeout')! } : {}),
    ...(args.string('ssh-config') ? { sshConfig: args.string('ssh-config')! } : {}),
    ...parseVia(args.string('via')),
  });
};

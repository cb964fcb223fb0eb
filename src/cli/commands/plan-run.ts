/** `bootstrap plan`: flags → PlanOptions → runPlan (src/workflow/plan). Wiring only. */
import type { CommandModule } from '../spec.js';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import type { PlanAnswers } from '../../render/plan.js';
import { formatResolvedTarget } from '../../ssh/ssh-config.js';
import { buildSshConfigAnswer } from '../../manifest/ssh-route.js';
import { runPlan } from '../../workflow/plan/index.js';
import type { ReportSource } from '../../probe/read-report.js';
import { resolveSshArgs } from '../ssh-flags.js';
import { readChoiceFlags } from '../install-flags.js';
import { buildPlanChoices } from '../../workflow/install/choice-maps.js';
import { PLAN_CHOICE_KEYS } from './plan.js';
import { resolveRunLoginKeys } from '../../workflow/install/login.js';
import { openSecretStore } from '../../secrets/open-store.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const host = args.positional(0, 'HOST');
  const given = (['target', 'report', 'facter'] as const).filter((f) => args.has(f));
  if (given.length !== 1) {
    throw usageError(
      'bad-argument',
      given.length === 0 ? 'no hardware report: give --target, --report or --facter' : `give only one of --${given.join(', --')}`,
      'e.g. `bootstrap plan web1 --target root@203.0.113.7` or `--report web1.json`',
    );
  }
  let source: ReportSource;
  let target: string | undefined;
  let identityFile: string | undefined;
  let sshConfig: string | undefined;
  if (given[0] === 'target') {
    const { config } = await loadConfig(resolve(ctx.cwd, args.string('flake') ?? '.'));
    const ssh = await resolveSshArgs(ctx, args, args.string('target')!, config.stateDir);
    identityFile = ssh.ssh.identityFile;
    source = { kind: 'target', target: ssh.target, ssh: ssh.ssh };
    target = formatResolvedTarget(ssh.target);
    // --ssh-config is recorded with the target (issue 20), in a form that works on other machines.
    sshConfig = buildSshConfigAnswer({ answers: { sshConfig: args.string('ssh-config') }, target: ssh.target, flakeDir: resolve(ctx.cwd, args.string('flake') ?? '.'), home: ctx.env.HOME }).sshConfig;
  } else {
    source = { kind: given[0]!, file: args.string(given[0]!)! };
  }
  // The hardware choices and login keys, read and mapped as for an install (workflow/install/choices.ts).
  const flags = readChoiceFlags(args, [...PLAN_CHOICE_KEYS, 'loginKeys']);
  const answers: PlanAnswers = { ...buildPlanChoices(flags), target, ...(sshConfig ? { sshConfig } : {}) };
  // Who may log into the host, for a new default.nix: resolved (and checked) before any probe.
  const login = await resolveRunLoginKeys(ctx, flags, identityFile, async () => openSecretStore(await loadConfig(resolve(ctx.cwd, args.string('flake') ?? '.')), ctx));
  if (login.keys.length) Object.assign(answers, { loginKeys: login.keys.map((k) => k.line), ...(login.from ? { loginFrom: login.from } : {}) });
  await runPlan(ctx, { host, source, answers, flakeDir: args.string('flake') ?? '.', json: args.bool('json'), write: args.bool('write') });
  return 0;
};

/**
 * `bootstrap new-host`: the wizard. Ask first, act later: every answer (flags, --answers file or
 * prompts) and the read-only probe come before the typed confirmation; only then do steps write
 * files, make keys or touch the target. The order of this file is the order of the job.
 */
import { askLoginKeys, resolveRunLoginKeys } from '../install/login.js';
import { checkRecipientFiles } from '../../recipients/register.js';
import { resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import { loadConfig } from '../../config/load.js';
import { buildSshFromChoices } from '../../cli/ssh-options.js';
import { formatTarget } from '../../ssh/target.js';
import { runReadReport } from '../plan/read-report.js';
import { assertFlakeDir } from '../install/flake-dir.js';
import { checkAnswers, mergeAnswers, type InstallRunFlags } from '../install/answers.js';
import { runConfirmWipe } from '../install/confirm.js';
import { buildDryRunText, printPrepared, runPreparePlan } from '../install/prepare.js';
import { INSTALL_STEPS, runInstall } from '../install/run-install.js';
import { buildStatePath, loadRunState, saveRunState } from '../install/state.js';
import { printInstallSummary } from '../install/summary.js';
import { askHardwareChoices, askHost, askTarget } from './ask.js';

export type NewHostOptions = InstallRunFlags;

export async function runNewHost(app: AppContext, o: NewHostOptions): Promise<void> {
  const flakeDir = resolve(app.cwd, o.flakeDir);
  await assertFlakeDir(flakeDir);
  const loaded = await loadConfig(flakeDir);

  // 1. Who and where.
  let answers = await askHost(app, o.answers);
  const host = answers.host!;
  await checkRecipientFiles(app, loaded, host); // a .sops.yaml we cannot extend stops the run before anything is written
  const statePath = buildStatePath(flakeDir, loaded.config.stateDir, host);
  const saved = o.resume || o.from ? await loadRunState(statePath, host) : undefined;
  if (saved) answers = mergeAnswers(saved.answers, answers);
  answers = checkAnswers(await askTarget(app, answers));
  const { target, ssh } = buildSshFromChoices(app, { ...answers, target: answers.target!, flakeDir, stateDir: loaded.config.stateDir });
  answers = await askLoginKeys(app, answers, ssh.identityFile);
  const login = await resolveRunLoginKeys(app, answers, ssh.identityFile); // a bad --login-key stops here, before connecting

  // 2. What it is (read-only), then what to make of it. A resumed run keeps its first report:
  //    the target may be half installed by now.
  const report = saved?.report ?? (await runReadReport(app, { kind: 'target', target, ssh }));
  if (!saved) answers = await askHardwareChoices(app, report, answers);
  const prepared = await runPreparePlan({ mode: 'new-host', flakeDir, loaded, host, answers, report, target, ssh, login });

  if (o.dryRun) {
    app.out.data(buildDryRunText(prepared, INSTALL_STEPS, app.env));
    return;
  }
  printPrepared(app, prepared, o.json);

  // 3. The typed confirmation: nothing before this point changed anything.
  await runConfirmWipe(app, { host, target: formatTarget(target), disk: prepared.plan.installDisk, ...(prepared.plan.secondDisk ? { second: prepared.plan.secondDisk } : {}), answers, manifestConfirms: false });

  // 4. Act.
  // The resume state is written only while this run holds the host lock: a refused second run
  // must not rewrite the first run's target or report.
  const outcome = await runInstall(app, prepared, { resume: o.resume, ...(o.from ? { from: o.from } : {}), saveState: () => saveRunState(statePath, { mode: 'new-host', answers, report }) });
  await printInstallSummary(app, prepared, outcome, o.json);
}

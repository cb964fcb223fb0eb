/**
 * `bootstrap new-host`: the wizard. Ask first, act later: every answer (flags, --answers file or
 * prompts) and the read-only probe come before the typed confirmation; only then do steps write
 * files, make keys or touch the target. The order of this file is the order of the job.
 */
import { resolveRunLoginKeys } from '../install/login.js';
import { once } from '../install/context.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { checkRecipientFiles } from '../../recipients/register.js';
import { resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import { loadConfig } from '../../config/load.js';
import { buildSshFromChoices, resolveSshFromChoices } from '../../ssh/ssh-choices.js';
import { isBootstrapError } from '../../errors.js';
import type { HardwareReport } from '../../probe/report.js';
import { loadProfiles } from '../../profiles/load.js';
import { formatTarget } from '../../ssh/target.js';
import { runReadReport } from '../../probe/read-report.js';
import { assertFlakeDir } from '../install/flake-dir.js';
import { checkAnswers, mergeAnswers, type InstallAnswers, type InstallRunFlags } from '../install/answers.js';
import { runConfirmWipe } from '../install/confirm.js';
import { printDryRun, printPrepared, runPreparePlan, type PreparedInstall } from '../install/prepare.js';
import { INSTALL_STEPS, runInstall } from '../install/run-install.js';
import { buildStatePath, loadRunState, saveRunState } from '../install/state.js';
import { printInstallSummary } from '../install/summary.js';
import { runChangeAnswer, runQuestions, WIZARD_STEPS, type WizardCtx } from './ask.js';
import { askReview } from './review.js';

export type NewHostOptions = InstallRunFlags;

/** The questions asked before the probe: all a resumed run (which keeps its first report) asks. */
const BEFORE_PROBE = new Set(['host', 'target', 'login']);

/** The exit code: 0 installed and healthy (or a dry run), 3 installed with failing health checks. */
export async function runNewHost(app: AppContext, o: NewHostOptions): Promise<number> {
  const flakeDir = resolve(app.cwd, o.flakeDir);
  await assertFlakeDir(flakeDir);
  const loaded = await loadConfig(flakeDir);
  // A --login-key given as a secret store reference opens the store once, when it is read.
  const openStore = once(() => openSecretStore(loaded, app));
  const stateDir = loaded.config.stateDir;
  const sshFor = (a: InstallAnswers) => buildSshFromChoices(app, { ...a, target: a.target!, flakeDir, stateDir });
  // The connection's target: resolved with the ssh config (alias, Port, User, ProxyJump, …).
  const resolvedFor = (a: InstallAnswers) => resolveSshFromChoices(app, { ...a, target: a.target!, flakeDir, stateDir });

  // The probe (read-only) runs when the first question needs the report, and again when the
  // target is changed at the review.
  let probed: { target: string; report: HardwareReport } | undefined;

  // A resumed run keeps its answers and its first report: the target may be half installed by now.
  let answers = checkAnswers(o.answers);
  let saved: Awaited<ReturnType<typeof loadRunState>> | undefined;
  if (o.resume || o.from) {
    answers = await runQuestions(WIZARD_STEPS.filter((s) => s.id === 'host'), buildWizardCtx(), answers);
    saved = await loadRunState(buildStatePath(flakeDir, stateDir, answers.host!), answers.host!);
    if (saved) answers = mergeAnswers(saved.answers, answers);
  }

  function buildWizardCtx(): WizardCtx {
    return {
      app,
      openStore,
      profiles: [],
      identityFile: (a) => (a.target ? sshFor(a).ssh.identityFile : undefined),
      // A .sops.yaml we cannot extend stops the run before anything is written.
      checkHost: (host) => checkRecipientFiles(app, loaded, host),
      async report(a) {
        if (saved) return saved.report;
        const last = probed;
        if (last && last.target === a.target) return last.report;
        const { target, ssh } = await resolvedFor(a);
        const report = await runReadReport(app, { kind: 'target', target, ssh });
        probed = { target: a.target!, report };
        return report;
      },
    };
  }
  const ctx = { ...buildWizardCtx(), profiles: await loadProfiles() };
  const steps = saved ? WIZARD_STEPS.filter((s) => BEFORE_PROBE.has(s.id)) : WIZARD_STEPS;

  // 1. Every question, in order (ask.ts); a given answer is not asked.
  if (answers.host !== undefined && !o.resume && !o.from) await checkRecipientFiles(app, loaded, answers.host);
  if (answers.loginKeys?.length) await resolveRunLoginKeys(app, answers, undefined, openStore); // a bad --login-key stops here, before connecting
  answers = checkAnswers(await runQuestions(steps, ctx, answers));

  // 2. The plan, then the review: install, change an answer (a new plan), or quit. On a terminal
  //    the typed confirmation follows "install"; a mistyped host name is asked again, then goes
  //    back here with every answer kept.
  const reviewed = app.prompts.interactive && !answers.yes;
  let prepared: PreparedInstall | undefined;
  let lastGood: InstallAnswers | undefined;
  let showPlan = true;
  for (;;) {
    try {
      prepared = await prepare(answers);
    } catch (e) {
      // A changed answer the plan refuses (a layout that does not fit): say why, keep the last plan's answers.
      if (!lastGood || !isBootstrapError(e)) throw e;
      app.out.error(`${e.message}${e.hint ? ` (${e.hint})` : ''}; the answer was not changed`);
      answers = lastGood;
      continue;
    }
    lastGood = answers;
    if (o.dryRun) {
      printDryRun(app, prepared, INSTALL_STEPS, o.json);
      return 0;
    }
    if (showPlan) printPrepared(app, prepared, o.json);
    const wipe = { host: prepared.host, target: formatTarget(prepared.target), disk: prepared.plan.installDisk, ...(prepared.plan.secondDisk ? { second: prepared.plan.secondDisk } : {}), answers, manifestConfirms: false };
    if (!reviewed) {
      await runConfirmWipe(app, wipe); // 3. the typed confirmation (or --yes --confirm-disk): nothing before this point changed anything
      break;
    }
    const choice = await askReview(steps, ctx, answers);
    if (choice.kind === 'install') {
      if (await runConfirmWipe(app, { ...wipe, onMistyped: 'return' })) break;
      showPlan = false;
      continue;
    }
    answers = checkAnswers(await runChangeAnswer(steps, ctx, answers, choice.id));
    showPlan = true;
  }

  // 4. Act.
  // The resume state is written only while this run holds the host lock: a refused second run
  // must not rewrite the first run's target or report.
  const final = answers;
  const { report } = prepared;
  const statePath = buildStatePath(flakeDir, stateDir, prepared.host);
  const outcome = await runInstall(app, prepared, { resume: o.resume, ...(o.from ? { from: o.from } : {}), saveState: () => saveRunState(statePath, { mode: 'new-host', answers: final, report }) });
  return printInstallSummary(app, prepared, outcome, o.json);

  async function prepare(a: InstallAnswers): Promise<PreparedInstall> {
    const host = a.host!;
    const { target, ssh } = await resolvedFor(a);
    const login = await resolveRunLoginKeys(app, a, ssh.identityFile, openStore);
    const report = await ctx.report(a);
    return runPreparePlan({ mode: 'new-host', flakeDir, loaded, host, answers: a, report, target, ssh, login, app, home: app.env.HOME });
  }
}

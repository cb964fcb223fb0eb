/**
 * `bootstrap rebuild HOST` and `bootstrap recover HOST`: the install again, from the committed
 * manifest, with the same identity. Rebuild insists the hardware did not drift (the manifest's
 * disk must be there with the same size and serial) and stops before any write when it did;
 * recover expects new hardware and asks for (or takes --disk) a new disk when the old one is gone.
 */
import { resolveRunLoginKeys } from '../install/login.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { checkRecipientFiles } from '../../recipients/register.js';
import { resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import { loadConfig } from '../../config/load.js';
import { resolveSshFromChoices } from '../../ssh/ssh-choices.js';
import { failure, usageError } from '../../errors.js';
import { readManifest } from '../../manifest/manifest.js';
import { readManifestSshConfig } from '../../manifest/ssh-route.js';
import { hostDir } from '../../config/host-dir.js';
import type { ManifestDisk } from '../../manifest/schema.js';
import type { HardwareReport } from '../../probe/report.js';
import { buildDiskCandidates, formatBytes, matchDisk, type DiskMatch } from '../../render/install-disk.js';
import { formatTarget } from '../../ssh/target.js';
import { buildLoginTargetText } from '../../manifest/login.js';
import { runReadReport } from '../../probe/read-report.js';
import { assertFlakeDir } from '../install/flake-dir.js';
import { checkAnswers, mergeAnswers, type InstallRunFlags } from '../install/answers.js';
import { buildAnswersFromManifest } from '../install/choice-maps.js';
import { runConfirmWipe } from '../install/confirm.js';
import { printDryRun, printPrepared, runPreparePlan } from '../install/prepare.js';
import { INSTALL_STEPS, runInstall } from '../install/run-install.js';
import { buildStatePath, loadRunState, saveRunState } from '../install/state.js';
import { printInstallSummary } from '../install/summary.js';
import { runRescueFirst, type InstallRunAfterRescue } from '../rescue/first.js';

export interface RebuildOptions extends InstallRunFlags {
  mode: 'rebuild' | 'recover';
  host: string;
  /** Boot the host into its provider's rescue system first (issue 13, src/workflow/rescue). */
  viaRescue?: boolean;
}

/** How the manifest's disk compares with the probed machine. Pure. */
export function checkDiskDrift(want: ManifestDisk, report: HardwareReport): DiskMatch {
  return matchDisk(want, report);
}

async function chooseNewDisk(app: AppContext, report: HardwareReport, host: string): Promise<string> {
  const disks = buildDiskCandidates(report).candidates;
  if (!app.prompts.interactive) {
    throw usageError('disk-gone', `the disk in ${host}'s manifest is not on the new machine`, `pick the new install disk with --disk (one of: ${disks.map((d) => d.byId[0] ?? d.path).join(', ') || 'none usable'})`);
  }
  return app.prompts.select({
    message: `The old disk of ${host} is gone. New install disk (it will be erased):`,
    flag: '--disk',
    choices: disks.map((d) => ({ value: d.byId[0] ?? d.path, name: `${d.byId[0] ?? d.path}  ${formatBytes(d.sizeBytes)} ${d.model ?? ''}`.trim() })),
  });
}

/** The exit code: 0 installed and healthy (or a dry run), 3 installed with failing health checks. */
export async function runRebuild(app: AppContext, o: RebuildOptions): Promise<number> {
  const flakeDir = resolve(app.cwd, o.flakeDir);
  await assertFlakeDir(flakeDir);
  const loaded = await loadConfig(flakeDir);
  const manifest = await readManifest(flakeDir, o.host);
  await checkRecipientFiles(app, loaded, o.host); // before anything is written or the target is reached
  const statePath = buildStatePath(flakeDir, loaded.config.stateDir, o.host);
  const saved = o.resume || o.from ? await loadRunState(statePath, o.host) : undefined;
  let answers = checkAnswers(mergeAnswers(buildAnswersFromManifest(manifest), saved?.answers ?? {}, o.answers));
  // The route the host was installed through (issue 20): the manifest's [ssh] config, unless
  // --ssh-config (or the run being resumed) names another.
  if (answers.sshConfig === undefined) {
    const recorded = readManifestSshConfig(manifest, flakeDir, app.env.HOME, `${hostDir(loaded.config, o.host)}/bootstrap.toml`);
    if (recorded) answers = { ...answers, sshConfig: recorded };
  }
  if (!answers.target) throw usageError('no-target', `${o.host}'s manifest names no target`, 'pass --target USER@HOST[:PORT]');
  // --via-rescue: the rescue steps run before the probe, which needs a host that answers SSH.
  let run: InstallRunAfterRescue = { resume: o.resume ?? false, ...(o.from ? { from: o.from } : {}), rescued: false };
  if (o.viaRescue && !o.dryRun) {
    run = await runRescueFirst(app, {
      flakeDir, loaded, manifest, host: o.host, target: answers.target, identity: answers.identity, hostKey: answers.hostKey, yes: answers.yes === true,
      ...(answers.waitTimeout !== undefined ? { waitTimeoutSeconds: answers.waitTimeout } : {}), ...(answers.sshConfig ? { sshConfig: answers.sshConfig } : {}), resume: o.resume ?? false, ...(o.from ? { from: o.from } : {}),
    });
  }
  // The installed host is reached as the manifest's [login] user when root may not log in (issue
  // 18): nixos-anywhere logs in as that user and uses sudo for the kexec. A given --target, or the
  // provider's rescue system (root), is taken as it is. The manifest keeps its own target.
  const asLogin = o.answers.target === undefined && !run.rescued ? buildLoginTargetText({ target: answers.target, login: manifest.login }) : undefined;
  const { target, ssh } = await resolveSshFromChoices(app, { ...answers, target: asLogin ?? answers.target, flakeDir, stateDir: loaded.config.stateDir });
  const login = await resolveRunLoginKeys(app, answers, ssh.identityFile, () => openSecretStore(loaded, app));

  // A fresh rescue system is probed again: an earlier run's report is of the host before it.
  const report = (run.rescued ? undefined : saved?.report) ?? (await runReadReport(app, { kind: 'target', target, ssh }));
  const drift = checkDiskDrift(manifest.installDisk, report);
  const diskGiven = o.answers.disk !== undefined;
  if (o.mode === 'rebuild' && drift.kind !== 'same') {
    throw failure(
      'disk-changed',
      `${o.host}: the install disk ${manifest.installDisk.byId ?? manifest.installDisk.path} ${drift.kind === 'missing' ? 'is gone' : `changed (${drift.what})`}; nothing was written`,
      `if this is new hardware, run \`bootstrap recover ${o.host}\`; otherwise check the target`,
    );
  }
  if (o.mode === 'recover' && drift.kind !== 'same' && !diskGiven) answers = { ...answers, disk: await chooseNewDisk(app, report, o.host) };
  const prepared = await runPreparePlan({ mode: o.mode, flakeDir, loaded, host: o.host, answers, report, target, ssh, login, existingManifest: manifest, home: app.env.HOME, ...(asLogin ? { manifestTarget: answers.target } : {}) });

  if (o.dryRun) {
    printDryRun(app, prepared, INSTALL_STEPS, o.json);
    return 0;
  }
  printPrepared(app, prepared, o.json);
  await runConfirmWipe(app, {
    host: o.host,
    target: formatTarget(target),
    disk: prepared.plan.installDisk,
    ...(prepared.plan.secondDisk ? { second: prepared.plan.secondDisk } : {}),
    answers,
    // The committed manifest names this disk and the probe just matched its size and serial.
    manifestConfirms: drift.kind === 'same' && !diskGiven,
  });
  // The resume state is written only while this run holds the host lock: a refused second run
  // must not rewrite the first run's target or report.
  const outcome = await runInstall(app, prepared, { resume: run.resume, ...(run.from ? { from: run.from } : {}), ...(run.runId ? { runId: run.runId } : {}), saveState: () => saveRunState(statePath, { mode: o.mode, answers, report }) });
  return printInstallSummary(app, prepared, outcome, o.json);
}

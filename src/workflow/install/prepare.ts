/**
 * From answers and a report to a prepared install: the plan (pure), its file actions, and the
 * identity mode. Also the dry-run view: the plan, the disk that would be wiped, the steps and
 * the installer commands, with nothing touched.
 */
import type { LoadedConfig } from '../../config/load.js';
import type { AppContext } from '../../context.js';
import type { Manifest } from '../../manifest/schema.js';
import { buildInstallerArgv, locateNixosAnywhere } from '../../nix/nixos-anywhere.js';
import { buildEvalDrvArgv, buildSystemBuildArgv } from '../../install/build-first.js';
import { formatDuration } from '../../install/installer-session.js';
import { buildInstallerOptions, planInstallerPhases, planPhaseTimeouts } from './installer-options.js';
import type { BuildResult } from './preflight-nix.js';
import type { HardwareReport } from '../../probe/report.js';
import { loadProfiles } from '../../profiles/load.js';
import { planFiles, type FilePlanEntry } from '../../render/file-plan.js';
import { parseSize } from '../../render/plan-choices.js';
import { buildPlanText } from '../../render/plan-print.js';
import { buildHostPlan, type HostPlan, type PlanAnswers } from '../../render/plan.js';
import type { SshOptions } from '../../ssh/session.js';
import { formatTarget, type SshTarget } from '../../ssh/target.js';
import type { InstallAnswers } from './answers.js';
import type { ResolvedLoginKeys } from '../../install/login-keys.js';
import { describeWipe } from './confirm.js';
import type { IdentityMode, InstallMode } from './context.js';

export interface PreparedInstall {
  mode: InstallMode;
  flakeDir: string;
  loaded: LoadedConfig;
  host: string;
  target: SshTarget;
  ssh: SshOptions;
  report: HardwareReport;
  plan: HostPlan;
  entries: FilePlanEntry[];
  answers: InstallAnswers;
  identity: IdentityMode;
  /** Who may log into the installed host (preflight checks the evaluated config has a key). */
  login: ResolvedLoginKeys;
}

/** Install answers → plan answers. Pure. */
export function buildPlanAnswers(a: InstallAnswers, target: SshTarget, identity: IdentityMode): PlanAnswers {
  return {
    ...(a.layout ? { layout: a.layout } : {}),
    ...(a.disk ? { disk: a.disk } : {}),
    ...(a.secondDisk ? { secondDisk: a.secondDisk } : {}),
    ...(a.profile ? { profile: a.profile } : {}),
    ...(a.swap !== undefined ? { swap: parseSize(a.swap) } : {}),
    ...(a.hibernate !== undefined ? { hibernate: a.hibernate } : {}),
    ...(a.subvolumes ? { subvolumes: a.subvolumes } : {}),
    ...(a.encrypt !== undefined ? { encrypt: a.encrypt } : {}),
    target: formatTarget(target),
    identity,
    ...(a.postKexecPort !== undefined ? { postKexecPort: a.postKexecPort } : {}),
    ...(a.phaseTimeouts ? { phaseTimeouts: Object.fromEntries(Object.entries(a.phaseTimeouts).map(([k, v]) => [k, String(v)])) } : {}),
  };
}

export async function runPreparePlan(o: {
  mode: InstallMode;
  flakeDir: string;
  loaded: LoadedConfig;
  host: string;
  answers: InstallAnswers;
  report: HardwareReport;
  target: SshTarget;
  ssh: SshOptions;
  login: ResolvedLoginKeys;
  existingManifest?: Manifest;
}): Promise<PreparedInstall> {
  planPhaseTimeouts({ answers: o.answers }); // a bad --phase-timeout is bad input: refuse it before anything runs
  const identity: IdentityMode = o.answers.copyHostKeys ? 'copy-target-keys' : (o.existingManifest?.install?.identity ?? 'provisioned');
  const plan = buildHostPlan({
    host: o.host,
    report: o.report,
    answers: { ...buildPlanAnswers(o.answers, o.target, identity), ...(o.login.keys.length ? { loginKeys: o.login.keys.map((k) => k.line), loginFrom: o.login.from } : {}) },
    profiles: await loadProfiles(),
    hostsDir: o.loaded.config.hostsDir,
    ...(o.existingManifest ? { existingManifest: o.existingManifest } : {}),
  });
  const entries = await planFiles(o.flakeDir, plan.files);
  return { mode: o.mode, flakeDir: o.flakeDir, loaded: o.loaded, host: o.host, target: o.target, ssh: o.ssh, report: o.report, plan, entries, answers: o.answers, identity, login: o.login };
}

/** The whole run as text, for --dry-run. Pure apart from locating the installer. */
export function buildDryRunText(p: PreparedInstall, stepTitles: readonly { id: string; title: string }[], env: NodeJS.ProcessEnv): string {
  const lines = [buildPlanText(p.plan, p.entries), '', describeWipe(p.host, formatTarget(p.target), p.plan.installDisk, p.plan.secondDisk), '', 'Steps:'];
  for (const s of stepTitles) lines.push(`  ${s.id.padEnd(11)}${s.title}`);
  let prefix: string[];
  try {
    prefix = locateNixosAnywhere(env).prefix;
  } catch {
    prefix = ['nixos-anywhere'];
  }
  const built: BuildResult =
    p.answers.buildOn === 'remote' ? { kind: 'remote' } : { kind: 'local', paths: { disko: '$DISKO', toplevel: '$TOPLEVEL' } };
  const files = {
    extraFilesDir: '$SECRET_DIR/extra-files',
    ...(p.plan.layout.encrypted ? { diskEncryptionKeyFile: '$SECRET_DIR/disk-encryption.key' } : {}),
  };
  const phases = planInstallerPhases('kexec');
  lines.push('', 'Preflight builds the system before the target is touched:');
  lines.push(`  ${(p.answers.buildOn === 'remote' ? buildEvalDrvArgv : buildSystemBuildArgv)(p.flakeDir, p.host, { ...(p.answers.noDiskoDeps ? { noDiskoDeps: true } : {}) }).join(' ')}`);
  lines.push('', 'Installer command, one call for every phase ($SECRET_DIR: a 0700 directory on tmpfs, removed afterwards;');
  lines.push("every ssh it makes checks the pinned host key through bootstrap's ssh guard):");
  lines.push(`  ${buildInstallerArgv(prefix, buildInstallerOptions(p, phases, built, files), phases).join(' ')}`);
  const t = planPhaseTimeouts(p);
  lines.push(`Time limits: ${phases.map((ph) => `${ph} ${formatDuration(t[ph])}`).join(', ')}.`);
  lines.push('', 'Dry run: nothing was written, no key was made, the target was only probed.');
  return lines.join('\n');
}

/** The plan for a person: on stdout, or on stderr when stdout carries --json. */
export function printPrepared(app: Pick<AppContext, 'out'>, p: PreparedInstall, json: boolean): void {
  const text = buildPlanText(p.plan, p.entries);
  if (json) app.out.info(text);
  else app.out.data(text);
  for (const w of p.plan.warnings) app.out.warn(w);
}

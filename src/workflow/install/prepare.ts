/**
 * From answers and a report to a prepared install: the plan (pure), its file actions, and the
 * identity mode. Also the dry-run view: the plan, the disk that would be wiped, the steps and
 * the installer commands, with nothing touched.
 */
import { hostDir } from '../../config/host-dir.js';
import { readNixpkgsRelease } from '../../nix/flake-lock-release.js';
import type { LoadedConfig } from '../../config/load.js';
import type { AppContext } from '../../context.js';
import type { Manifest } from '../../manifest/schema.js';
import { buildInstallerArgv, locateNixosAnywhere } from '../../nix/nixos-anywhere.js';
import { buildEvalDrvArgv, buildSystemBuildArgv } from '../../installer/build-first.js';
import { formatDuration } from '../../installer/installer-session.js';
import { buildInstallerOptions, planInstallerPhases, planPhaseTimeouts } from './installer-options.js';
import type { BuildResult } from './preflight-nix.js';
import type { HardwareReport } from '../../probe/report.js';
import { loadProfiles } from '../../profiles/load.js';
import { planFiles, type FilePlanEntry } from '../../render/file-plan.js';
import { buildPlanJson, buildPlanText, type PlanContext } from '../../render/plan-print.js';
import { buildPlanContext } from './plan-context.js';
import { runPickupCheck } from '../plan/flake-pickup.js';
import type { InstallDisk } from '../../render/install-disk.js';
import type { Phase } from '../../nix/nixos-anywhere.js';
import { buildHostPlan, type HostPlan, type PlanAnswers } from '../../render/plan.js';
import type { SshOptions } from '../../ssh/session.js';
import { formatTarget, type SshTarget } from '../../ssh/target.js';
import { formatResolvedTarget } from '../../ssh/ssh-config.js';
import { buildSshConfigAnswer } from '../../manifest/ssh-route.js';
import type { InstallAnswers } from './answers.js';
import { buildPlanChoices } from './choice-maps.js';
import type { ResolvedLoginKeys } from '../../installer/login-keys.js';
import { describeWipe } from './confirm.js';
import { buildTailscaleAnswers } from './tailscale-key.js';
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
  /** Secret store, recipient edits, flake wiring: shown in the plan (plan-context.ts). */
  context?: PlanContext;
}

/** Install answers → plan answers (the choice table's plan mapping, choice-maps.ts). Pure. */
export function buildPlanAnswers(a: InstallAnswers, target: SshTarget, identity: IdentityMode): PlanAnswers {
  // An empty profile, layout or disk answer counts as not given here, as it always has (the
  // wizard then lets the plan choose); `bootstrap plan` passes such a flag on and refuses it.
  const given = Object.fromEntries(Object.entries(a).filter(([, v]) => v !== '')) as InstallAnswers;
  return { ...buildPlanChoices(given), target: formatResolvedTarget(target), identity };
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
  /** The target the manifest records when the run connects otherwise (as the [login] user, issue 18). */
  manifestTarget?: string;
  /** Given (new-host): whether flake.nix picks up the host is evaluated for the plan's hint. */
  app?: Pick<AppContext, 'run' | 'signal'>;
  /** $HOME: a --ssh-config under it is recorded as ~/… (manifest/ssh-route.ts). */
  home?: string | undefined;
}): Promise<PreparedInstall> {
  planPhaseTimeouts({ answers: o.answers }); // a bad --phase-timeout is bad input: refuse it before anything runs
  const stateVersion = await readNixpkgsRelease(o.flakeDir);
  const identity: IdentityMode = o.answers.copyHostKeys ? 'copy-target-keys' : (o.existingManifest?.install?.identity ?? 'provisioned');
  const plan = buildHostPlan({
    host: o.host,
    report: o.report,
    answers: { ...buildPlanAnswers(o.answers, o.target, identity), ...buildSshConfigAnswer(o), ...(o.manifestTarget ? { target: o.manifestTarget } : {}), ...(stateVersion ? { stateVersion } : {}), ...(o.login.keys.length ? { loginKeys: o.login.keys.map((k) => k.line), loginFrom: o.login.from } : {}), ...buildTailscaleAnswers(o.loaded.config.tailscale, o.host) },
    profiles: await loadProfiles(),
    hostDir: hostDir(o.loaded.config, o.host),
    ...(o.existingManifest ? { existingManifest: o.existingManifest } : {}),
  });
  const entries = await planFiles(o.flakeDir, plan.files);
  const pickup = o.app ? await runPickupCheck(o.app, o.flakeDir, o.host, hostDir(o.loaded.config, o.host), plan.files) : undefined;
  const context = await buildPlanContext(o.loaded, o.host, pickup);
  return { mode: o.mode, flakeDir: o.flakeDir, loaded: o.loaded, host: o.host, target: o.target, ssh: o.ssh, report: o.report, plan, entries, answers: o.answers, identity, login: o.login, context };
}

/**
 * Everything a dry run shows, as data: the one source of both the text and the `--json` document,
 * so they cannot disagree. Pure apart from locating the installer.
 */
export interface DryRun {
  wipe: { text: string; target: string; disks: InstallDisk[] };
  steps: Array<{ id: string; title: string }>;
  preflight: { buildOn: 'local' | 'remote'; argv: string[] };
  installer: { phases: Phase[]; argv: string[] };
  /** Per-phase limits in milliseconds, in phase order. */
  timeLimitsMs: Record<Phase, number>;
}

export function planDryRun(p: PreparedInstall, stepTitles: readonly { id: string; title: string }[], env: NodeJS.ProcessEnv): DryRun {
  const target = formatTarget(p.target);
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
    // url/cache: the target downloads the image; the installer gets the small tarball that checks it.
    ...(p.answers.kexecUrl !== undefined || (p.answers.kexecFrom !== undefined && p.answers.kexecFrom !== 'local') ? { kexecTarball: '$SECRET_DIR/kexec-verified.tar' } : {}),
  };
  const phases = planInstallerPhases('kexec');
  const t = planPhaseTimeouts(p);
  return {
    wipe: { text: describeWipe(p.host, target, p.plan.installDisk, p.plan.secondDisk), target, disks: [p.plan.installDisk, ...(p.plan.secondDisk ? [p.plan.secondDisk] : [])] },
    steps: stepTitles.map((s) => ({ id: s.id, title: s.title })),
    preflight: {
      buildOn: p.answers.buildOn === 'remote' ? 'remote' : 'local',
      argv: (p.answers.buildOn === 'remote' ? buildEvalDrvArgv : buildSystemBuildArgv)(p.flakeDir, p.host, { ...(p.answers.noDiskoDeps ? { noDiskoDeps: true } : {}) }),
    },
    installer: { phases, argv: buildInstallerArgv(prefix, buildInstallerOptions(p, phases, built, files), phases) },
    timeLimitsMs: Object.fromEntries(phases.map((ph) => [ph, t[ph]])) as Record<Phase, number>,
  };
}

/** The whole run as text, for --dry-run. Pure apart from locating the installer. */
export function buildDryRunText(p: PreparedInstall, stepTitles: readonly { id: string; title: string }[], env: NodeJS.ProcessEnv): string {
  const d = planDryRun(p, stepTitles, env);
  const lines = [buildPlanText(p.plan, p.entries, p.context), '', d.wipe.text, '', 'Steps:'];
  for (const s of d.steps) lines.push(`  ${s.id.padEnd(11)}${s.title}`);
  lines.push('', 'Preflight builds the system before the target is touched:');
  lines.push(`  ${d.preflight.argv.join(' ')}`);
  lines.push('', 'Installer command, one call for every phase ($SECRET_DIR: a 0700 directory on tmpfs, removed afterwards;');
  lines.push("every ssh it makes checks the pinned host key through bootstrap's ssh guard):");
  lines.push(`  ${d.installer.argv.join(' ')}`);
  lines.push(`Time limits: ${d.installer.phases.map((ph) => `${ph} ${formatDuration(d.timeLimitsMs[ph])}`).join(', ')}.`);
  lines.push('', 'Dry run: nothing was written, no key was made, the target was only probed.');
  return lines.join('\n');
}

/**
 * The `--dry-run --json` document: the plan as `bootstrap plan --json` prints it, the disks that
 * would be wiped, the steps, the preflight and installer argv ($SECRET_DIR, $DISKO and $TOPLEVEL
 * stand for paths made at run time) and the time limits. Built from the same data as the text.
 */
export function buildDryRunJson(p: PreparedInstall, stepTitles: readonly { id: string; title: string }[], env: NodeJS.ProcessEnv) {
  const d = planDryRun(p, stepTitles, env);
  return {
    dryRun: true as const,
    mode: p.mode,
    host: p.host,
    target: d.wipe.target,
    identity: p.identity,
    plan: buildPlanJson(p.plan, p.entries),
    wipe: {
      target: d.wipe.target,
      disks: d.wipe.disks.map((k) => ({ path: k.path, byId: k.byId, devPath: k.devPath, sizeBytes: k.sizeBytes, model: k.model, serial: k.serial })),
      description: d.wipe.text,
    },
    steps: d.steps,
    preflight: d.preflight,
    installer: d.installer,
    timeLimits: Object.fromEntries(d.installer.phases.map((ph) => [ph, { ms: d.timeLimitsMs[ph], text: formatDuration(d.timeLimitsMs[ph]) }])),
    changed: { filesWritten: 0, keysMade: 0, targetTouched: 'probed only' },
  };
}

/** --dry-run: the text on stdout, or with --json the document (and the plan's warnings on stderr). */
export function printDryRun(app: Pick<AppContext, 'out' | 'env'>, p: PreparedInstall, stepTitles: readonly { id: string; title: string }[], json: boolean): void {
  if (json) {
    app.out.json(buildDryRunJson(p, stepTitles, app.env));
    for (const w of p.plan.warnings) app.out.warn(w);
  } else app.out.data(buildDryRunText(p, stepTitles, app.env));
}

/** The plan for a person: on stdout, or on stderr when stdout carries --json. */
export function printPrepared(app: Pick<AppContext, 'out'>, p: PreparedInstall, json: boolean): void {
  const text = buildPlanText(p.plan, p.entries, p.context);
  if (json) app.out.info(text);
  else app.out.data(text);
  for (const w of p.plan.warnings) app.out.warn(w);
}

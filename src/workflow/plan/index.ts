/**
 * `bootstrap plan`: get the report, plan hosts/HOST purely, compare with the flake, print, and with
 * --write apply through applyFilePlan. Order matters: every question (report, profile, layout,
 * disk) is settled by buildHostPlan before a single file is touched.
 */
import { hostDir } from '../../config/host-dir.js';
import { readNixpkgsRelease } from '../../nix/flake-lock-release.js';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import { loadConfig } from '../../config/load.js';
import { isBootstrapError } from '../../errors.js';
import { readManifest } from '../../manifest/manifest.js';
import type { Manifest } from '../../manifest/schema.js';
import { loadProfiles } from '../../profiles/load.js';
import { applyFilePlan, planFiles, type FilePlanEntry } from '../../render/file-plan.js';
import { buildHostPlan, type HostPlan, type PlanAnswers } from '../../render/plan.js';
import { buildPlanJson, buildPlanText } from '../../render/plan-print.js';
import { buildFlakeHint } from './flake-hint.js';
import { runPickupCheck } from './flake-pickup.js';
import { runReadReport, type ReportSource } from '../../probe/read-report.js';

export interface PlanOptions {
  host: string;
  source: ReportSource;
  answers: PlanAnswers;
  flakeDir: string;
  json: boolean;
  write: boolean;
}

export interface PlanOutcome {
  plan: HostPlan;
  entries: FilePlanEntry[];
  written: string[];
  flakeHint?: string[];
}

/** The manifest on disk, when there is one: its other sections are kept by the new plan. */
async function readExistingManifest(flakeDir: string, host: string): Promise<Manifest | undefined> {
  try {
    return await readManifest(flakeDir, host);
  } catch (e) {
    if (isBootstrapError(e) && e.code === 'no-manifest') return undefined;
    throw e;
  }
}

async function readFlakeNix(flakeDir: string): Promise<string | undefined> {
  try {
    return await readFile(join(flakeDir, 'flake.nix'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function runPlan(ctx: AppContext, opts: PlanOptions): Promise<PlanOutcome> {
  const flakeDir = resolve(ctx.cwd, opts.flakeDir);
  const { config } = await loadConfig(flakeDir);
  const profiles = await loadProfiles();
  const report = await runReadReport(ctx, opts.source);
  const existingManifest = await readExistingManifest(flakeDir, opts.host);
  const stateVersion = await readNixpkgsRelease(flakeDir);
  const plan = buildHostPlan({ host: opts.host, report, answers: { ...opts.answers, ...(stateVersion ? { stateVersion } : {}) }, profiles, hostDir: hostDir(config, opts.host), existingManifest });
  const entries = await planFiles(flakeDir, plan.files);

  if (opts.json) ctx.out.json(buildPlanJson(plan, entries));
  else ctx.out.data(buildPlanText(plan, entries));
  for (const w of plan.warnings) ctx.out.warn(w);

  const written = opts.write ? await applyFilePlan(flakeDir, entries) : [];
  if (opts.write) ctx.out.success(written.length ? `wrote ${written.join(', ')}` : 'nothing to write: the flake is up to date');
  else if (entries.some((e) => e.action === 'create' || e.action === 'update')) ctx.out.info('run again with --write to apply');

  const flake = await readFlakeNix(flakeDir);
  let flakeHint: string[] | undefined;
  const dir = hostDir(config, plan.host);
  // Decided by evaluating the flake with the planned files in place (flake-pickup.ts), not by its text.
  const pickup = flake === undefined ? undefined : await runPickupCheck(ctx, flakeDir, plan.host, dir, plan.files);
  if (flake !== undefined && pickup?.kind === 'no') {
    flakeHint = buildFlakeHint(flake, config.hostsDir, plan.host, dir);
    const why = pickup.why === 'no-configuration' ? `it has no nixosConfigurations.${plan.host}` : `nixosConfigurations.${plan.host} does not import ${dir}`;
    ctx.out.info(`flake.nix does not pick up ${dir} yet (${why}); add these lines (bootstrap never edits flake.nix):`);
    ctx.out.info(flakeHint.map((l) => `  ${l}`).join('\n'));
  } else if (pickup?.kind === 'unknown') {
    ctx.out.info(`could not check whether flake.nix picks up ${dir}: ${pickup.reason}; an install checks it before touching the target`);
  }
  return { plan, entries, written, ...(flakeHint ? { flakeHint } : {}) };
}

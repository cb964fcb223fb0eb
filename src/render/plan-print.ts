/**
 * How a host plan reads: human text (profile and why, layout, disk, each file with its action and
 * a diff for updates) and the `--json` shape. Pure.
 */
import { buildUnifiedDiff } from './diff.js';
import type { FilePlanEntry } from './file-plan.js';
import { formatBytes, type InstallDisk } from './install-disk.js';
import type { HostPlan } from './plan.js';

const diskLine = (d: InstallDisk): string =>
  `${d.path} (${[d.devPath !== d.path ? d.devPath : '', formatBytes(d.sizeBytes), d.model, d.serial ? `serial ${d.serial}` : ''].filter(Boolean).join(', ')})`;

const ACTION_WIDTH = 11;

/** What an install does besides the host's files (workflow/install/plan-context.ts). */
export interface PlanContext {
  secretStore: string;
  recipients: string;
  /** flake.nix does not pick up the host yet: the lines to add (bootstrap never edits it). */
  flakeHint?: { dir: string; lines: string[] };
}

/**
 * The plan as text for a person. `entries` are the files with their actions against the flake;
 * `context` (installs) adds the secret store, the recipient edits and the flake wiring.
 */
export function buildPlanText(plan: HostPlan, entries: readonly FilePlanEntry[], context?: PlanContext): string {
  const l = plan.layout;
  const lines = [
    `Plan for ${plan.host}`,
    `  profile  ${plan.profile.name}: ${plan.profile.description}`,
    ...plan.profile.reasons.map((r) => `           - ${r}`),
    `  layout   ${l.name} (${l.boot} boot, ${l.bootLoader}, swap ${l.swapBytes > 0 ? formatBytes(l.swapBytes) : 'none'}${l.hibernate ? ', hibernation' : ''}${l.encrypted ? ', encrypted' : ''}${l.subvolumes.length ? `, subvolumes ${l.subvolumes.join(' ')}` : ''})`,
    `  disk     ${diskLine(plan.installDisk)}`,
    ...(plan.secondDisk ? [`  disk 2   ${diskLine(plan.secondDisk)}`] : []),
    `  initrd   ${plan.initrdModules.join(' ') || '(none)'}`,
    `  kernel   ${plan.kernelModules.join(' ') || '(none)'}${plan.kernelParams.length ? `; params ${plan.kernelParams.join(' ')}` : ''}`,
    plan.login.fingerprints.length
      ? `  login    root with ${plan.login.fingerprints.join(', ')}${plan.login.from ? ` (from ${plan.login.from})` : ''}${
          entries.some((e) => e.path.endsWith(`/${plan.host}/default.nix`) && e.action === 'skip') ? ': default.nix exists and is kept, so only if it lists the key (preflight checks)' : ', in a new default.nix'
        }`
      : '  login    no key given: the host must get one from its own configuration (preflight checks)',
    ...(context ? [`  secrets  ${context.secretStore}`, `  recipients ${context.recipients}`] : []),
    ...(context?.flakeHint ? [`  flake    flake.nix does not pick up ${context.flakeHint.dir} yet; add (bootstrap never edits flake.nix):`, ...context.flakeHint.lines.map((l) => `             ${l}`)] : []),
    ...(plan.profile.nixosHardware ? [`  hint     consider inputs.nixos-hardware.nixosModules.${plan.profile.nixosHardware}`] : []),
    '',
    'Files:',
  ];
  for (const e of entries) {
    const why = e.action === 'skip' ? `  (${e.reason ?? 'user-owned'})` : '';
    lines.push(`  ${e.action.padEnd(ACTION_WIDTH)}${e.path}${why}`);
    if (e.action === 'update' && e.existing !== undefined) {
      const diff = buildUnifiedDiff(e.existing, e.content, e.path);
      lines.push(...diff.trimEnd().split('\n').map((d) => `      ${d}`));
    }
  }
  return lines.join('\n') + '\n';
}

export interface PlanJson {
  host: string;
  profile: string;
  profileReasons: string[];
  layout: string;
  layoutDetails: HostPlan['layout'];
  installDisk: { path: string; byId: string | null; sizeBytes: number; serial: string | null; model: string | null; devPath: string };
  secondDisk?: PlanJson['installDisk'];
  initrdModules: string[];
  kernelModules: string[];
  kernelParams: string[];
  nixosHardware?: string;
  warnings: string[];
  files: Array<{ path: string; action: string; owner: string; content: string; diff?: string; reason?: string }>;
}

const diskJson = (d: InstallDisk): PlanJson['installDisk'] => ({
  path: d.path,
  byId: d.byId,
  sizeBytes: d.sizeBytes,
  serial: d.serial,
  model: d.model,
  devPath: d.devPath,
});

/** The `--json` document: the issue's fields first, then extras (reasons, details, diffs). */
export function buildPlanJson(plan: HostPlan, entries: readonly FilePlanEntry[]): PlanJson {
  return {
    host: plan.host,
    profile: plan.profile.name,
    profileReasons: plan.profile.reasons,
    layout: plan.layout.name,
    layoutDetails: plan.layout,
    installDisk: diskJson(plan.installDisk),
    ...(plan.secondDisk ? { secondDisk: diskJson(plan.secondDisk) } : {}),
    initrdModules: plan.initrdModules,
    kernelModules: plan.kernelModules,
    kernelParams: plan.kernelParams,
    ...(plan.profile.nixosHardware ? { nixosHardware: plan.profile.nixosHardware } : {}),
    warnings: plan.warnings,
    files: entries.map((e) => ({
      path: e.path,
      action: e.action,
      owner: e.owner,
      content: e.content,
      ...(e.action === 'update' && e.existing !== undefined ? { diff: buildUnifiedDiff(e.existing, e.content, e.path) } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
    })),
  };
}

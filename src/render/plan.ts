/**
 * buildHostPlan: report + answers + profiles → every file of hosts/HOST and the choices behind
 * them. PURE and deterministic: no clock, no environment, no fs; the same input gives
 * byte-identical output. The caller applies it with planFiles/applyFilePlan.
 */
import { posix } from 'node:path';
import { failure, messageOf } from '../errors.js';
import { buildManifestToml } from '../manifest/manifest.js';
import type { Manifest, ManifestDisk } from '../manifest/schema.js';
import type { HardwareReport } from '../probe/report.js';
import { chooseProfile } from '../profiles/match.js';
import { buildRecipe, mergeModuleAttrs, type ModuleAttrs } from '../profiles/recipes.js';
import type { Profile } from '../profiles/schema.js';
import { buildBootLoader, buildDiskoConfig, planSwapBytes, requiredInitrdModulesForLayout, type BootMode, type LayoutName } from './disko/index.js';
import type { PlannedFile } from './file-plan.js';
import { buildHardwareNix, buildHardwareNixInputFromReport } from './hardware-nix.js';
import { buildDefaultNix, buildStableJson } from './host-files.js';
import { buildDiskCandidates, chooseInstallDisks, type InstallDisk } from './install-disk.js';
import { parseTarget } from '../ssh/target.js';
import { parseLoginKeyLine } from '../installer/login-keys.js';
import { checkHostName, checkSecondDiskFits, checkSubvolumesFit, describeUnknownFirmware, planBootChoice, planLayout } from './plan-choices.js';

export interface PlanAnswers {
  layout?: string;
  disk?: string;
  secondDisk?: string;
  profile?: string;
  /** Swap in bytes; default from memory (planSwapBytes). */
  swap?: number;
  hibernate?: boolean;
  subvolumes?: string[];
  encrypt?: boolean;
  /** user@host[:port], recorded in the manifest. */
  target?: string;
  /** --ssh-config in its manifest form (manifest/ssh-route.ts), recorded as the manifest's [ssh] config. */
  sshConfig?: string;
  /** How the installed host gets its host key, recorded in the manifest's [install]. */
  identity?: 'provisioned' | 'copy-target-keys';
  /** Installer settings recorded in the manifest's [install] (replayed by rebuild). */
  postKexecPort?: number;
  phaseTimeouts?: Record<string, string>;
  /** Public key lines that may log in as root (rendered into a new default.nix). */
  loginKeys?: string[];
  /** Where they came from, for the plan text. */
  loginFrom?: string;
  /** The user to log in as after the install (--login-user), recorded as the manifest's [login]. */
  loginUser?: string;
  /** system.stateVersion of a new default.nix: the release flake.lock pins (default STATE_VERSION). */
  stateVersion?: string;
  /** [tailscale] authKey is set: a new default.nix reads the delivered key here (issue 21). */
  tailscaleAuthKeyFile?: string;
  /** The host's tailnet DNS name (HOST.TAILNET), recorded in the manifest's [tailscale]. */
  tailscaleName?: string;
}

export interface HostPlanInput {
  host: string;
  report: HardwareReport;
  answers: PlanAnswers;
  profiles: readonly Profile[];
  /** The host's directory in the flake (config/host-dir.ts hostDir; default hosts/HOST). */
  hostDir?: string;
  /** The manifest already on disk: its sections filled by other commands are kept. */
  existingManifest?: Manifest;
}

export interface HostPlan {
  host: string;
  profile: { name: string; description: string; reasons: string[]; forced: boolean; nixosHardware?: string };
  layout: { name: LayoutName; boot: BootMode; bootLoader: 'grub' | 'systemd-boot'; swapBytes: number; hibernate: boolean; encrypted: boolean; subvolumes: string[] };
  installDisk: InstallDisk;
  secondDisk?: InstallDisk;
  initrdModules: string[];
  kernelModules: string[];
  kernelParams: string[];
  warnings: string[];
  /** root's login keys rendered into a new default.nix (fingerprints), and where they came from. */
  login: { fingerprints: string[]; from?: string };
  files: PlannedFile[];
}

const uniqSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

const diskRecord = (d: InstallDisk): ManifestDisk => ({
  path: d.path,
  sizeBytes: d.sizeBytes,
  ...(d.byId ? { byId: d.byId } : {}),
  ...(d.serial ? { serial: d.serial } : {}),
  ...(d.model ? { model: d.model } : {}),
});

/** Profile and recipe settings, merged; a contradiction in our own data is reported, not rendered. */
function buildProfileModule(profile: Profile, report: HardwareReport): { module: ModuleAttrs; warnings: string[] } {
  const results = profile.contributes.recipes.map((r) => buildRecipe(r, report));
  return { module: mergeModuleAttrs(profile.contributes.module, ...results.map((r) => r.module)), warnings: results.flatMap((r) => r.warnings) };
}

/**
 * Plan hosts/HOST. Throws BootstrapErrors: bad host name, unknown profile/layout, no usable disk,
 * a disk choice needed or not in the report, a layout that does not fit the disks.
 */
export function buildHostPlan(input: HostPlanInput): HostPlan {
  const host = checkHostName(input.host);
  const { report, answers } = input;
  const match = chooseProfile(report, input.profiles, answers.profile);
  const profile = match.profile;
  const { boot, wanted } = planBootChoice(profile, report);

  const usable = buildDiskCandidates(report).candidates.length;
  // With no usable disk at all, the disk error (what was excluded and why) says more than a layout error.
  if (usable === 0) chooseInstallDisks(report, { count: 1 });
  const layout = planLayout({ asked: answers.layout, encrypt: answers.encrypt, profile, usableDisks: usable, boot });
  checkSubvolumesFit(layout, answers.subvolumes);
  checkSecondDiskFits(layout, answers.secondDisk);
  const choice = chooseInstallDisks(report, { disk: answers.disk, secondDisk: answers.secondDisk, count: layout.disksRequired, layout: layout.name });
  const [installDisk, secondDisk] = choice.disks as [InstallDisk, InstallDisk | undefined];

  const hibernate = answers.hibernate ?? false;
  const swapBytes = answers.swap ?? planSwapBytes(report.memoryBytes, { hibernate });
  const subvolumes = answers.subvolumes ?? [];
  const loader = buildBootLoader(layout.name, boot, wanted === 'grub' || wanted === 'systemd-boot' ? wanted : undefined);
  const disko = buildDiskoConfig({ layout: layout.name, boot, disks: choice.disks.map((d) => d.path), swapBytes, hibernate, subvolumes });

  const contrib = profile.contributes;
  const layoutInitrd = requiredInitrdModulesForLayout(layout.name, { swapBytes, boot });
  const fromReport = buildHardwareNixInputFromReport(report);
  const profileModule = buildProfileModule(profile, report);
  let hardwareNix: string;
  try {
    hardwareNix = buildHardwareNix({
      ...fromReport,
      extraInitrdModules: [...contrib.initrdModules, ...layoutInitrd],
      extraKernelModules: contrib.kernelModules,
      kernelParams: contrib.kernelParams,
      extraConfig: profileModule.module,
    });
  } catch (e) {
    throw failure('profile-conflict', `profile ${profile.name} contradicts the hardware scan: ${messageOf(e)}`, `pass another --profile, or fix hardware-profiles/${profile.name}.toml`, e);
  }

  const dir = input.hostDir ?? posix.join('hosts', host);
  const prev = input.existingManifest;
  const manifest = buildManifestToml({
    version: 1,
    host,
    target: answers.target ?? prev?.target,
    profile: profile.name,
    layout: { name: layout.name, swapBytes, hibernate, encrypt: layout.encrypted, ...(subvolumes.length ? { subvolumes } : {}) },
    installDisk: diskRecord(installDisk),
    ...(secondDisk ? { secondDisk: diskRecord(secondDisk) } : {}),
    // Sections other commands fill (keys, cache, backup) survive a re-plan unchanged.
    secrets: prev?.secrets,
    cache: prev?.cache,
    backup: prev?.backup,
    install: buildInstallSection(prev?.install, answers),
    provider: prev?.provider,
    tailscale: answers.tailscaleName ? { name: answers.tailscaleName } : prev?.tailscale,
    login: answers.loginUser ? { user: answers.loginUser } : prev?.login,
    ssh: answers.sshConfig ? { config: answers.sshConfig } : prev?.ssh,
  });

  const files: PlannedFile[] = [
    { path: `${dir}/disko.nix`, content: disko, owner: 'tool' },
    { path: `${dir}/hardware.nix`, content: hardwareNix, owner: 'tool' },
    { path: `${dir}/default.nix`, content: buildDefaultNix({ host, bootLoader: loader.lines, ...(answers.stateVersion ? { stateVersion: answers.stateVersion } : {}), ...(answers.loginKeys?.length ? { loginKeys: answers.loginKeys } : {}), nixosHardware: contrib.nixosHardware, ...(answers.target ? { sshPort: parseTarget(answers.target).port } : {}), ...(answers.tailscaleAuthKeyFile ? { tailscaleAuthKeyFile: answers.tailscaleAuthKeyFile } : {}) }), owner: 'user' },
    { path: `${dir}/facts.json`, content: buildStableJson(report), owner: 'tool' },
    { path: `${dir}/bootstrap.toml`, content: manifest, owner: 'tool' },
  ];

  return {
    host,
    profile: { name: profile.name, description: profile.description, reasons: match.reasons, forced: match.forced ?? false, ...(contrib.nixosHardware ? { nixosHardware: contrib.nixosHardware } : {}) },
    layout: { name: layout.name, boot, bootLoader: loader.loader, swapBytes, hibernate, encrypted: layout.encrypted, subvolumes },
    installDisk,
    ...(secondDisk ? { secondDisk } : {}),
    initrdModules: uniqSorted([...fromReport.modules.initrdAvailable, ...contrib.initrdModules, ...layoutInitrd]),
    kernelModules: uniqSorted([...fromReport.modules.kernelModules, ...contrib.kernelModules]),
    kernelParams: [...contrib.kernelParams],
    warnings: [...(describeUnknownFirmware(report) ? [describeUnknownFirmware(report)!] : []), ...choice.warnings, ...(report.firmware === 'unknown' ? [] : loader.warnings), ...profileModule.warnings],
    login: { fingerprints: (answers.loginKeys ?? []).map((l) => parseLoginKeyLine(l)?.fingerprint ?? l), ...(answers.loginFrom ? { from: answers.loginFrom } : {}) },
    files,
  };
}

/** The manifest's [install]: what the answers set over what the manifest had. Pure. */
function buildInstallSection(prev: Manifest['install'], a: PlanAnswers): Manifest['install'] {
  if (!a.identity && a.postKexecPort === undefined && !a.phaseTimeouts) return prev;
  return {
    ...prev,
    identity: a.identity ?? prev?.identity ?? 'provisioned',
    ...(a.postKexecPort !== undefined ? { postKexecPort: a.postKexecPort } : {}),
    ...(a.phaseTimeouts ? { phaseTimeouts: { ...prev?.phaseTimeouts, ...a.phaseTimeouts } } : {}),
  };
}

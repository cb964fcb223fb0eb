/**
 * Profile matching: every rule a profile states must hold; among the profiles that match, the one
 * with the highest score (sum of rule weights) wins, then `priority`, then the name, so the choice
 * is deterministic. The winner carries the rules that matched, as sentences, for the plan.
 */
import { usageError } from '../errors.js';
import { gpuVendorOf, isGpu, type HardwareReport } from '../probe/report.js';
import type { GpuKind, MatchRuleName, MatchRules, Profile } from './schema.js';

/** Specific facts (a vendor string) count for more than broad ones (an architecture). */
export const RULE_WEIGHTS: Record<MatchRuleName, number> = {
  virtualization: 1,
  arch: 1,
  firmware: 1,
  dmiVendor: 4,
  dmiVendorRegex: 4,
  dmiProduct: 4,
  dmiProductRegex: 4,
  chassis: 2,
  cpuVendor: 2,
  battery: 2,
  gpuVendors: 2,
  hybridGraphics: 3,
  rescue: 2,
  ipv6Gateway: 2,
};

export interface ProfileMatch {
  profile: Profile;
  score: number;
  /** One sentence per matched rule, in rule order. */
  reasons: string[];
  /** Set when the profile was chosen with --profile rather than matched. */
  forced?: boolean;
}

/** GPU kinds present on the PCI bus (class 03xx), sorted, without virtual adapters. */
export function buildGpuKinds(report: HardwareReport): GpuKind[] {
  const kinds = new Set<GpuKind>();
  for (const d of report.pci) {
    const v = gpuVendorOf(d.vendorId);
    if (isGpu(d) && (v === 'nvidia' || v === 'amd' || v === 'intel')) kinds.add(v);
  }
  return [...kinds].sort();
}

const lc = (s: string | null | undefined): string => (s ?? '').toLowerCase();

/** Why a rule holds, or undefined when it does not. */
function checkRule(name: MatchRuleName, rules: MatchRules, r: HardwareReport, gpus: GpuKind[]): string | undefined {
  switch (name) {
    case 'virtualization':
      return rules.virtualization!.includes(r.virtualization) ? `virtualization is ${r.virtualization}` : undefined;
    case 'arch':
      return rules.arch!.includes(r.arch) ? `architecture is ${r.arch}` : undefined;
    case 'firmware':
      if (r.firmware === 'unknown') return `firmware unknown (may be ${rules.firmware!.toUpperCase()})`;
      return rules.firmware === r.firmware ? `firmware is ${r.firmware.toUpperCase()}` : undefined;
    case 'dmiVendor':
      return lc(r.dmi.vendor).includes(lc(rules.dmiVendor)) ? `DMI vendor "${r.dmi.vendor}" contains "${rules.dmiVendor}"` : undefined;
    case 'dmiVendorRegex':
      return new RegExp(rules.dmiVendorRegex!, 'i').test(r.dmi.vendor ?? '') ? `DMI vendor "${r.dmi.vendor}" matches /${rules.dmiVendorRegex}/` : undefined;
    case 'dmiProduct':
      return lc(r.dmi.product).includes(lc(rules.dmiProduct)) ? `DMI product "${r.dmi.product}" contains "${rules.dmiProduct}"` : undefined;
    case 'dmiProductRegex':
      return new RegExp(rules.dmiProductRegex!, 'i').test(r.dmi.product ?? '') ? `DMI product "${r.dmi.product}" matches /${rules.dmiProductRegex}/` : undefined;
    case 'chassis':
      return rules.chassis!.some((c) => lc(c) === lc(r.dmi.chassis)) ? `chassis is ${r.dmi.chassis}` : undefined;
    case 'cpuVendor':
      return rules.cpuVendor!.some((c) => lc(c) === lc(r.cpu.vendor)) ? `CPU vendor is ${r.cpu.vendor}` : undefined;
    case 'battery':
      return rules.battery === r.battery ? (r.battery ? 'has a battery' : 'has no battery') : undefined;
    case 'gpuVendors':
      return rules.gpuVendors!.every((g) => gpus.includes(g)) ? `GPU vendors include ${rules.gpuVendors!.join(', ')}` : undefined;
    case 'hybridGraphics': {
      const hybrid = gpus.includes('nvidia') && (gpus.includes('intel') || gpus.includes('amd'));
      return rules.hybridGraphics === hybrid ? (hybrid ? `hybrid graphics: ${gpus.join(' + ')}` : 'no hybrid graphics') : undefined;
    }
    case 'rescue':
      return rules.rescue === r.os.isRescue ? (r.os.isRescue ? 'booted into a rescue system' : 'not a rescue system') : undefined;
    case 'ipv6Gateway': {
      const gw = r.defaultRoutes.find((x) => x.family === 'ipv6' && lc(x.gateway) === lc(rules.ipv6Gateway));
      return gw ? `default IPv6 gateway is ${rules.ipv6Gateway} on ${gw.interface}` : undefined;
    }
  }
}

/** Every rule of a profile, checked: the sentences of those that hold, the names of those that fail. */
export function buildRuleResults(profile: Profile, report: HardwareReport, gpus = buildGpuKinds(report)): { reasons: string[]; failed: MatchRuleName[]; score: number } {
  const reasons: string[] = [];
  const failed: MatchRuleName[] = [];
  let score = 0;
  for (const name of Object.keys(RULE_WEIGHTS) as MatchRuleName[]) {
    if (profile.match[name] === undefined) continue;
    const why = checkRule(name, profile.match, report, gpus);
    if (why === undefined) failed.push(name);
    else {
      reasons.push(why);
      score += RULE_WEIGHTS[name];
    }
  }
  return { reasons, failed, score };
}

/** Score one profile: undefined when any of its rules fails. */
export function buildProfileMatch(profile: Profile, report: HardwareReport, gpus = buildGpuKinds(report)): ProfileMatch | undefined {
  const r = buildRuleResults(profile, report, gpus);
  return r.failed.length ? undefined : { profile, score: r.score, reasons: r.reasons };
}

/** Every matching profile, best first. Pure and deterministic. */
export function rankProfiles(report: HardwareReport, profiles: readonly Profile[]): ProfileMatch[] {
  const gpus = buildGpuKinds(report);
  return profiles
    .map((p) => buildProfileMatch(p, report, gpus))
    .filter((m): m is ProfileMatch => m !== undefined)
    .sort((a, b) => b.score - a.score || b.profile.priority - a.profile.priority || a.profile.name.localeCompare(b.profile.name));
}

/** A profile by name (--profile), or a usage error listing the valid names. */
export function findProfile(profiles: readonly Profile[], name: string): Profile {
  const p = profiles.find((x) => x.name === name);
  if (!p) {
    const names = profiles.map((x) => x.name).sort();
    throw usageError('unknown-profile', `unknown profile "${name}"; valid profiles: ${names.join(', ')}`, 'pass one of them with --profile, or omit --profile to match automatically');
  }
  return p;
}

/**
 * The profile for a report: the forced one when named (its reasons say which of its rules hold),
 * else the best match. No match at all is a failure that names --profile.
 */
export function chooseProfile(report: HardwareReport, profiles: readonly Profile[], forced?: string): ProfileMatch {
  if (forced !== undefined) {
    const profile = findProfile(profiles, forced);
    const r = buildRuleResults(profile, report);
    return { profile, score: r.score, reasons: ['chosen explicitly (--profile or the wizard)', ...r.reasons], forced: true };
  }
  const best = rankProfiles(report, profiles)[0];
  if (!best) {
    throw usageError(
      'no-profile',
      `no hardware profile matches this machine (virtualization ${report.virtualization}, ${report.arch}, ${report.firmware})`,
      `pass --profile NAME; valid profiles: ${profiles.map((p) => p.name).sort().join(', ')}`,
    );
  }
  return best;
}

/**
 * The wizard's choice lists and answer parsing, pure so they are table-tested: which layouts to
 * offer and which one this machine gets by default, the encrypted variant of a layout, the
 * subvolume list as typed.
 */
import { DISKO_LAYOUTS, findLayout, type BootMode, type LayoutInfo, type LayoutName } from '../../render/disko/index.js';
import type { Profile } from '../../profiles/schema.js';
import { planLayout } from '../../render/plan-choices.js';
import type { Choice } from '../../ports/prompter.js';

/** The value of the "← back" choice (and what a step returns to go back). */
export const BACK = '\u0000back';
export type Back = typeof BACK;

/** Layouts asked as "plain layout + encrypt yes/no": the encrypted one is not listed on its own. */
const ENCRYPTED_VARIANT: Partial<Record<LayoutName, LayoutName>> = { 'single-btrfs': 'luks-btrfs' };

export function encryptedVariantOf(plain: LayoutInfo): LayoutInfo | undefined {
  if (plain.encrypted) return plain;
  const name = ENCRYPTED_VARIANT[plain.name];
  return name ? findLayout(name) : undefined;
}

/** luks-btrfs → single-btrfs; any layout without an unencrypted twin is itself. */
export function plainLayoutOf(l: LayoutInfo): LayoutInfo {
  const plain = Object.entries(ENCRYPTED_VARIANT).find(([, enc]) => enc === l.name)?.[0];
  return plain ? findLayout(plain) : l;
}

/** Btrfs layouts take extra subvolumes (the layout data file lists the parameter). */
export function supportsSubvolumes(l: LayoutInfo): boolean {
  return l.params.some((p) => p.name === 'subvolumes');
}

/** "containers, data=/srv/data" → ["containers", "data=/srv/data"]; empty → []. */
export function parseSubvolumeList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface LayoutQuestion {
  message: string;
  choices: Choice[];
  /** The value selected when the question opens. */
  default: string;
  /** The layout this machine gets when nothing is chosen. */
  machineDefault: LayoutInfo;
}

/**
 * The layout question: it names the machine's default and where it comes from (the profile's
 * first preference that fits, or the fallback), and lists the layouts that fit the usable disks
 * and the boot mode. Encrypted twins are asked as a separate yes/no, so they are not listed.
 */
export function buildLayoutQuestion(o: { profile: Profile; usableDisks: number; boot: BootMode; current?: string; encrypt?: boolean }): LayoutQuestion {
  const def = planLayout({ profile: o.profile, usableDisks: o.usableDisks, boot: o.boot, ...(o.encrypt ? { encrypt: true } : {}) });
  const plainDef = plainLayoutOf(def);
  const fromProfile = o.profile.contributes.layouts.some((n) => n === def.name || def.aliases.includes(n));
  const why = o.encrypt ? '--encrypt' : fromProfile ? `profile ${o.profile.name}` : `no layout profile ${o.profile.name} prefers fits`;
  const seen = new Set<string>();
  const offered: LayoutInfo[] = [];
  for (const l of DISKO_LAYOUTS) {
    if (l.disksRequired > o.usableDisks || !l.boot.includes(o.boot)) continue;
    const plain = plainLayoutOf(l);
    if (o.encrypt && !encryptedVariantOf(plain)) continue;
    if (seen.has(plain.name)) continue;
    seen.add(plain.name);
    offered.push(plain);
  }
  const current = o.current ? plainLayoutOf(findLayout(o.current)).name : undefined;
  return {
    message: `Disk layout, default for this machine: ${def.name} (${why}):`,
    choices: offered.map((l) => ({ value: l.name, name: l.name === plainDef.name ? `${l.name}  (default)` : l.name, description: l.description + (encryptedVariantOf(l) ? ' Encryption is asked next.' : '') })),
    default: current && seen.has(current) ? current : plainDef.name,
    machineDefault: def,
  };
}

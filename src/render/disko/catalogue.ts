/**
 * The layout catalogue: templates/layouts/*.toml, validated with zod. It is what the wizard lists
 * and what `--layout` accepts (names and aliases). Loaded once, synchronously: six small files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseTomlFile } from '../../config/load.js';
import { parseWith } from '../../config/validate.js';
import { usageError } from '../../errors.js';
import { packageFile } from '../../package-files.js';
import { LAYOUT_NAMES, LayoutInfoSchema, type BootMode, type LayoutInfo, type LayoutName } from './types.js';

/** templates/layouts/ of the package (package-files.ts: the same from src/ and from the bundle). */
export const LAYOUTS_DIR = packageFile('templates', 'layouts') + '/';

/** Parse one layout data file; the name inside must equal the file name. */
export function parseLayoutInfo(text: string, file: string): LayoutInfo {
  const info = parseWith(LayoutInfoSchema, parseTomlFile(text, file), file);
  const expected = basename(file).replace(/\.toml$/, '');
  if (info.name !== expected) throw usageError('invalid-file', `${file}: name "${info.name}" does not match the file name`);
  return info;
}

/** Read and check the catalogue: every known layout has exactly one file, in LAYOUT_NAMES order. */
export function loadLayouts(dir: string = LAYOUTS_DIR): LayoutInfo[] {
  const files = readdirSync(dir).filter((n) => n.endsWith('.toml'));
  const infos = files.map((n) => parseLayoutInfo(readFileSync(join(dir, n), 'utf8'), n));
  const missing = LAYOUT_NAMES.filter((n) => !infos.some((i) => i.name === n));
  if (missing.length) throw usageError('invalid-file', `${dir}: no data file for layout(s) ${missing.join(', ')}`);
  return LAYOUT_NAMES.map((n) => infos.find((i) => i.name === n)!);
}

/** The catalogue shipped with the tool. */
export const DISKO_LAYOUTS: readonly LayoutInfo[] = loadLayouts();

/** Resolve a `--layout` value (name or alias). Throws a usage error naming the valid choices. */
export function findLayout(name: string, layouts: readonly LayoutInfo[] = DISKO_LAYOUTS): LayoutInfo {
  const wanted = name.trim().toLowerCase();
  const hit = layouts.find((l) => l.name === wanted || l.aliases.includes(wanted));
  if (hit) return hit;
  throw usageError('unknown-layout', `unknown layout "${name}"; valid layouts: ${layouts.map((l) => l.name).join(', ')}`, 'pass one of them with --layout');
}

/**
 * Check a layout fits the machine: enough disks, a supported boot mode. Throws a one-line usage
 * error naming what would fit.
 */
export function checkLayoutFits(layout: LayoutInfo, diskCount: number, boot: BootMode, layouts: readonly LayoutInfo[] = DISKO_LAYOUTS): void {
  if (diskCount < layout.disksRequired) {
    const fitting = layouts.filter((l) => l.disksRequired <= diskCount && l.boot.includes(boot)).map((l) => l.name);
    throw usageError(
      'layout-needs-two-disks',
      `layout ${layout.name} needs ${layout.disksRequired} disks, but ${diskCount} usable disk${diskCount === 1 ? ' was' : 's were'} given; layouts that fit: ${fitting.join(', ')}`,
      'choose one of them with --layout, or pass the second disk',
    );
  }
  if (!layout.boot.includes(boot)) {
    throw usageError('layout-boot-mode', `layout ${layout.name} does not support ${boot} boot; it supports ${layout.boot.join(', ')}`);
  }
}

export const isLayoutName = (s: string): s is LayoutName => (LAYOUT_NAMES as readonly string[]).includes(s);

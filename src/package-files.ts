/**
 * Where the files the CLI reads at run time are: templates/, hardware-profiles/ and package.json at
 * the package root, the shell scripts (probe.sh, health script.sh) under src/ or dist/.
 *
 * Resolved from this module's own URL, which is one level below the root in every way the CLI runs:
 * src/package-files.ts under tsx, src/package-files.js in the tests' per-file build, and inside a
 * chunk of the bundle (scripts/build.mjs), whose chunks all sit flat in dist/. A module deeper in
 * src/ must not resolve `../../…` from its own URL: in the bundle its code lives in dist/.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the checkout, or the installed package's directory. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** src/ (tsx, per-file builds) or dist/ (the bundle, where scripts/build.mjs copies the *.sh files). */
const CODE_DIR = fileURLToPath(new URL('.', import.meta.url));

/** A file of the package, e.g. packageFile('templates', 'layouts'). */
export function packageFile(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

/** A shell script by its path below src/, e.g. codeAsset('probe/probe.sh'). */
export function codeAsset(pathBelowSrc: string): string {
  return join(CODE_DIR, pathBelowSrc);
}

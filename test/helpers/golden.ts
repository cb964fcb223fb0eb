/**
 * Golden files: rendered output compared byte for byte with test/fixtures/render/NAME. A change is
 * a reviewed diff: run with UPDATE_GOLDEN=1 to rewrite the files, then read `git diff`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const GOLDEN_DIR = join(REPO_ROOT, 'test/fixtures/render');

export function assertGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `golden file ${file} is missing; run the test with UPDATE_GOLDEN=1 to create it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from its golden file; if intended, rerun with UPDATE_GOLDEN=1 and review the diff`);
}

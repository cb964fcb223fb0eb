/**
 * bin/bootstrap.js in a checkout: a dist/ older than src/ (a `git pull` without `npm run build`)
 * runs the last build's code, so the launcher says so; a fresh build and an installed package
 * (no src/) stay quiet.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'nb-stale-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'bin'));
cpSync(join(REPO_ROOT, 'bin', 'bootstrap.js'), join(dir, 'bin', 'bootstrap.js'));
mkdirSync(join(dir, 'dist'));
writeFileSync(join(dir, 'dist', 'bin.js'), 'console.log("ran dist");\n');
writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');

const run = () => spawnSync(process.execPath, [join(dir, 'bin', 'bootstrap.js')], { encoding: 'utf8' });
const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

test('an installed package (no src/) runs dist without a warning', () => {
  const r = run();
  assert.equal(r.stdout, 'ran dist\n');
  assert.equal(r.stderr, '');
});

test('a source file newer than dist/bin.js is warned about, and dist still runs', () => {
  mkdirSync(join(dir, 'src', 'workflow'), { recursive: true });
  writeFileSync(join(dir, 'src', 'workflow', 'x.ts'), 'export {};\n');
  writeFileSync(join(dir, 'src', 'x.test.ts'), 'export {};\n');
  at(join(dir, 'dist', 'bin.js'), 1_000_000);
  at(join(dir, 'src', 'workflow', 'x.ts'), 2_000_000);
  const r = run();
  assert.equal(r.stdout, 'ran dist\n');
  assert.match(r.stderr, /dist\/ is older than src\/.*\n  hint: run `npm run build`/);
});

test('after a build (dist newer than every source, tests excepted) it is quiet', () => {
  at(join(dir, 'dist', 'bin.js'), 3_000_000);
  at(join(dir, 'src', 'x.test.ts'), 4_000_000);
  const r = run();
  assert.equal(r.stdout, 'ran dist\n');
  assert.equal(r.stderr, '');
});

#!/usr/bin/env node
// Run the test suite with node:test, straight from TypeScript (tsx). Usage:
//   npm test                 all tests
//   npm test -- probe        only test files whose path contains "probe"
// A test file may take up to 30 minutes (the e2e files run the real installer many times, and a
// busy machine can double that);
// every wait inside a test is bounded on its own.
// Test files: src/**/*.test.ts (unit, beside the code) and test/**/*.test.ts (integration, e2e).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}
const files = [...find(join(root, 'src')), ...find(join(root, 'test'))]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=1800000', ...passthrough, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } },
);
process.exit(r.status ?? 1);

#!/usr/bin/env node
// `npm run bench`: run every scripts/bench/*.ts (through tsx) one after another and print what
// each reports. Benchmarks print figures and whether they meet their target; a missed target is
// reported, not an error. Exit status is non-zero only when a benchmark crashed.
//   npm run bench                 all benchmarks
//   npm run bench -- cold         only those whose file name contains "cold"
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'scripts', 'bench');
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && (filters.length === 0 || filters.some((x) => f.includes(x))))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}`);
  process.exit(1);
}
const failed = [];
for (const f of files) {
  console.log(`\n=== ${f.replace(/\.ts$/, '')} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { cwd: root, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) failed.push(`${f} (exit ${r.status ?? r.signal})`);
}
console.log(failed.length ? `\nbenchmarks that crashed: ${failed.join(', ')}` : `\n${files.length} benchmark(s) ran`);
process.exit(failed.length ? 1 : 0);

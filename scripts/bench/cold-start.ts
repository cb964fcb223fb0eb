/**
 * Cold start: `node bin/bootstrap.js --help` (the built CLI) against `node -e 0`, median of N
 * alternating runs. Target: at most 2.5 times node's own start. Builds dist/ first if missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';

const RUNS = 15;
const TARGET = 2.5;
const root = new URL('../..', import.meta.url).pathname;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeIt(argv: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  await runCommand(argv, { cwd: root, env: { NO_COLOR: '1' } });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

if (!existsSync(join(root, 'dist', 'bin.js'))) {
  console.log('dist/ is missing: running npm run build first');
  const built = await runCommand(['npm', 'run', 'build'], { cwd: root, check: false });
  // tsc still emits JavaScript when it reports type errors; --help can be timed from that.
  if (built.code !== 0 && existsSync(join(root, 'dist', 'bin.js'))) console.log('warning: npm run build reported errors; timing the JavaScript it emitted');
  if (!existsSync(join(root, 'dist', 'bin.js'))) {
    console.log(`cannot measure: npm run build failed: ${built.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    process.exit(1);
  }
}
const bin = join(root, 'bin', 'bootstrap.js');
// One warm-up each, so the first-ever disk read of node and the modules is not measured.
await timeIt([process.execPath, bin, '--help']);
await timeIt([process.execPath, '-e', '0']);
const cli: number[] = [];
const bare: number[] = [];
for (let i = 0; i < RUNS; i++) {
  cli.push(await timeIt([process.execPath, bin, '--help']));
  bare.push(await timeIt([process.execPath, '-e', '0']));
}
const ratio = median(cli) / median(bare);
console.log(`node -e 0                   median ${median(bare).toFixed(0)} ms  (${RUNS} runs)`);
console.log(`bootstrap --help (dist)     median ${median(cli).toFixed(0)} ms  (${RUNS} runs)`);
console.log(`ratio ${ratio.toFixed(2)}x  target <= ${TARGET}x: ${ratio <= TARGET ? 'MET' : 'MISSED'}`);

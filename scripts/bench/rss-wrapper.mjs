// Bench helper: run the built CLI (dist/bin.js) in this process and, at exit, write this process's
// peak RSS (kB, from getrusage) to $BENCH_RSS_FILE. Not part of the product.
import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
await import(new URL('../../dist/bin.js', import.meta.url).href);

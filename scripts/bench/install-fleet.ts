/**
 * Issue 4 benchmarks, against network-namespace targets of the installer lab (root only), through
 * the REAL nixos-anywhere.sh:
 *  - fleet: `rebuild --hosts h1..h8 --parallel 8` wall time vs one host's rebuild (target ≤ 1.25×)
 *  - memory: peak RSS of one full `new-host` run of the built CLI (target ≤ 150 MB)
 * Targets are Hetzner Cloud rescue-system scenarios (fake /sys and disks). Everything is torn down.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabTarget } from '../../test/helpers/installer-lab.js';
import { answersToml } from '../../test/e2e/harness.js';
import { best, runBuilt, withBenchLab } from './built-cli.js';

const N = 8;

await withBenchLab(async (lab, f) => {
  const targets: LabTarget[] = [];
  for (let i = 1; i <= N; i++) targets.push(await lab.addTarget());
  const h1 = targets[0]!;
  writeFileSync(join(f.dir, 'h1.toml'), answersToml(h1, 'h1'));
  const rssFile = join(f.dir, '.rss');
  const first = await runBuilt(f, ['new-host', '--answers', join(f.dir, 'h1.toml')], rssFile);
  if (first.code !== 0) throw new Error(`new-host failed: ${first.stderr}`);
  const rssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  console.log(`new-host peak RSS: ${rssMb.toFixed(1)} MB (target ≤ 150 MB) ${rssMb <= 150 ? 'OK' : 'MISSED'}; wall ${(first.ms / 1000).toFixed(2)} s`);
  for (let i = 2; i <= N; i++) {
    const t = targets[i - 1]!;
    appendFileSync(join(t.dir.root, '.ssh/authorized_keys'), readFileSync(`${h1.clientKeyPath}.pub`, 'utf8'));
    const p = await runBuilt(f, ['plan', `h${i}`, '--target', t.target, '-i', h1.clientKeyPath, '--host-key', t.fingerprint, '--write']);
    if (p.code !== 0) throw new Error(`plan h${i} failed: ${p.stderr}`);
  }
  const list = Array.from({ length: N }, (_, i) => `h${i + 1}`).join(',');
  const single = await best(1, () => runBuilt(f, ['rebuild', 'h1', '--yes', '-i', h1.clientKeyPath]));
  const fleet = await best(1, () => runBuilt(f, ['rebuild', '--hosts', list, '--parallel', String(N), '-i', h1.clientKeyPath]));
  const ratio = fleet / single;
  console.log(`one host ${(single / 1000).toFixed(2)} s, ${N} hosts --parallel ${N} ${(fleet / 1000).toFixed(2)} s: ${ratio.toFixed(2)}× (target ≤ 1.25×) ${ratio <= 1.25 ? 'OK' : 'MISSED'}`);
});

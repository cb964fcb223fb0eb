/**
 * Issue 20: the operator's bytes per install, in the installer lab through the REAL
 * nixos-anywhere.sh, with and without the fleet's attic cache (a FAKE atticd on the lab bridge; the
 * strict fake `attic` client pushes to it; the target's side of `nix copy
 * --substitute-on-destination` substitutes from it). The system closure is a 20 MB incompressible
 * payload (FAKE_NIX_CLOSURE_BYTES). What is counted: the bytes of SSH packets the installer's ssh
 * connections sent from this machine (OpenSSH's "Transferred: sent", recorded by bootstrap's ssh
 * guard), per phase, as `--json` reports them; the attic push's HTTP upload is shown apart (it
 * leaves the operator once per closure, not once per install). Goal with the cache: ≤ 1 MB.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answersToml } from '../../test/e2e/harness.js';
import { startLabCache } from '../../test/e2e/cache-fixtures.js';
import { withBenchLab } from './built-cli.js';

const PAYLOAD = 20_000_000;
type Out = { transfer: { sentBytes: number; phases: Record<string, { sentBytes: number }>; closure?: { from: string; missing?: string } } };
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

await withBenchLab(async (lab, f) => {
  const t = await lab.addTarget();
  const cache = await startLabCache(lab, f);
  try {
    const env = { FAKE_NIX_CLOSURE_BYTES: String(PAYLOAD) };
    const run = async (label: string, args: string[], extra: Record<string, string> = {}) => {
      const r = await f.cli([...args, '--json'], { ...env, ...extra });
      if (r.code !== 0 && r.code !== 3) throw new Error(`${label} failed: ${r.stderr.slice(-1500)}`);
      const o = JSON.parse(r.stdout) as Out;
      const phases = Object.entries(o.transfer.phases).map(([p, x]) => `${p} ${mb(x.sentBytes)}`).join(', ');
      console.log(`${label}: sent ${mb(o.transfer.sentBytes)} over ssh (${phases}); closure ${o.transfer.closure?.from ?? '?'}${o.transfer.closure?.missing ? ` (${o.transfer.closure.missing})` : ''}`);
      return o.transfer.sentBytes;
    };
    writeFileSync(join(f.dir, 'b.toml'), answersToml(t, 'bytes1'));
    const without = await run('without a cache', ['new-host', '--answers', join(f.dir, 'b.toml')]);
    cache.configure();
    const uploadsBefore = cache.attic.log.length;
    const cold = await run('with the cache, cold (attic pushes first)', ['rebuild', 'bytes1', '--yes', '-i', t.clientKeyPath, '--wait-timeout', '60'], { PATH: cache.atticPath });
    const pushed = cache.attic.log.slice(uploadsBefore).filter((l) => l.what === 'upload-path').reduce((n, l) => n + (l.bytesIn ?? 0), 0);
    console.log(`  attic push uploaded ${mb(pushed)} over HTTP to the cache (once per closure)`);
    const warm = await run('with the cache, warm (nothing to push)', ['rebuild', 'bytes1', '--yes', '-i', t.clientKeyPath, '--wait-timeout', '60'], { PATH: cache.atticPath });
    const worst = Math.max(cold, warm);
    console.log(`operator ssh bytes per install: ${mb(without)} without the cache, ${mb(worst)} with it (goal ≤ 1 MB) ${worst <= 1e6 ? 'OK' : 'MISSED'}`);
  } finally {
    await cache.attic.close();
  }
});

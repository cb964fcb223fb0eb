/**
 * Issue 9 benchmark, against namespace targets of the installer lab (root only), through the REAL
 * nixos-anywhere.sh, with the FAKE nix taking BUILD_SECONDS per attribute built:
 *  - wall time of a whole `bootstrap new-host` (probe, files, keys, recipients, preflight build,
 *    one installer call, verify) against ONE plain upstream call (`nixos-anywhere --flake …
 *    --extra-files …`) on an identical target, as a ratio in one run (goal ≤ 1.15×);
 *  - flake evaluations and builds per install, from the fake nix's call log (goal: one build of
 *    each attribute, no evaluation in the installer call).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLabFlake } from '../../test/helpers/installer-lab.js';
import { answersToml } from '../../test/e2e/harness.js';
import { runBuilt, withBenchLab } from './built-cli.js';
import { runCommand } from '../../src/exec/run.js';

const BUILD_SECONDS = '3';

function count(calls: { kind: string; argv: string[] }[]) {
  const builtAttrs = calls.filter((c) => c.kind === 'build').flatMap((c) => c.argv.filter((a) => a.includes('#nixosConfigurations')));
  return { evals: calls.filter((c) => c.kind === 'eval').length, buildCalls: calls.filter((c) => c.kind === 'build').length, builtAttrs };
}

await withBenchLab(async (lab, f) => {
  const plainTarget = await lab.addTarget();
  const ourTarget = await lab.addTarget();
  const env = { ...f.env, FAKE_NIX_BUILD_SECONDS: BUILD_SECONDS };

  // One plain upstream call, as a user would type it, on its own flake with the same host files.
  const plainFlake = join(f.dir, '.plain');
  mkdirSync(plainFlake);
  makeLabFlake(plainFlake, { web1: 'hetzner-cloud-x86' });
  const extra = join(f.dir, '.plain-extra/etc/ssh');
  mkdirSync(extra, { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(extra, 'ssh_host_ed25519_key')]);
  let mark = lab.nixCalls().length;
  const t0 = performance.now();
  // Async: the lab's kexec and reboot hooks answer from this process.
  const plainRun = await runCommand(['nixos-anywhere', '--flake', `${plainFlake}#web1`, '--target-host', plainTarget.target, '-i', plainTarget.clientKeyPath, '--extra-files', join(f.dir, '.plain-extra')], {
    env, timeoutMs: 300_000, group: true, check: false,
  });
  if (plainRun.code !== 0) throw new Error(`the plain call failed: ${plainRun.stderr.slice(-1500)}`);
  await plainTarget.waitFor((s) => s.phase === 'installed', 60_000);
  const plainMs = performance.now() - t0;
  const plain = count(lab.nixCalls().slice(mark));

  mark = lab.nixCalls().length;
  writeFileSync(join(f.dir, 'web1.toml'), answersToml(ourTarget, 'web1'));
  const ours = await runBuilt(f, ['new-host', '--answers', join(f.dir, 'web1.toml')], undefined, { FAKE_NIX_BUILD_SECONDS: BUILD_SECONDS });
  if (ours.code !== 0) throw new Error(`new-host failed: ${ours.stderr}`);
  const ourCalls = count(lab.nixCalls().slice(mark));
  const ratio = ours.ms / plainMs;
  console.log(`one plain nixos-anywhere call: ${(plainMs / 1000).toFixed(1)} s; bootstrap new-host (probe to verify): ${(ours.ms / 1000).toFixed(1)} s: ${ratio.toFixed(2)}× (goal ≤ 1.15×) ${ratio <= 1.15 ? 'OK' : 'MISSED'}`);
  console.log(`plain call: ${plain.evals} evaluations, ${plain.buildCalls} build calls (${plain.builtAttrs.length} attributes)`);
  const perAttr = new Map<string, number>();
  for (const a of ourCalls.builtAttrs) perAttr.set(a.replace(/^.*\.config\./, ''), (perAttr.get(a.replace(/^.*\.config\./, '')) ?? 0) + 1);
  const once = [...perAttr.values()].every((n) => n === 1);
  console.log(`new-host: ${ourCalls.evals} evaluations (all in preflight), ${ourCalls.buildCalls} build call: ${[...perAttr].map(([a, n]) => `${a} ×${n}`).join(', ')} ${once ? 'OK' : 'MISSED'}`);
  console.log(`(simulated build time ${BUILD_SECONDS} s per attribute; the script's own sleeps after kexec and before the reboot count in both)`);
});

/**
 * The health report against installed NixOS hosts built from the REAL upstream modules: agenix 0.15.0
 * (links with `ln -sfn`), agenix main (`ln -sfT`, its sysusers unit) and sops-nix, evaluated by
 * nix-instantiate (nixos-eval.ts), laid out as their activation leaves a host (nixos-host.ts), read by
 * the real health script under dash in a chroot, parsed and judged. Each case asserts the true
 * verdict and, where something is broken on purpose, the one check that fails and its hint.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buildHealthChecks, needsReboot } from '../../src/health/checks.js';
import { buildExpectations } from '../../src/health/expect.js';
import { parseHealthOutput } from '../../src/health/parse.js';
import { worstStatus, type HealthCheck } from '../../src/health/report.js';
import { ConfigSchema } from '../../src/config/schema.js';
import type { Manifest } from '../../src/manifest/schema.js';
import { agenixConfig, evalSecretsModule, nixEvalSkipReason, sopsConfig, type EvaluatedHost, type SecretsModule } from './nixos-eval.js';
import { BUILT, buildNixosHost, hostCase, runHealthScript, SOPS_KEY, type HostCase } from './nixos-host.js';

const skip = nixEvalSkipReason() ?? (process.getuid?.() !== 0 ? 'needs root (a private mount namespace and chroot)' : undefined);

const MANIFEST: Manifest = {
  version: 1, host: 'web1', target: 'root@203.0.113.7', profile: 'generic-vps',
  layout: { name: 'single-ext4', swapBytes: 2 * 2 ** 30 },
  installDisk: { path: '/dev/disk/by-id/virtio-1', byId: '/dev/disk/by-id/virtio-1', sizeBytes: 40e9 },
  backup: { enable: true },
};
const KEY = { fingerprint: 'SHA256:abc', pinFile: '.bootstrap/known_hosts' };

describe('health report on hosts built from the real agenix and sops-nix modules', { skip: skip ?? false }, () => {
  const base = mkdtempSync('/var/tmp/nb-nixos-host-');
  const evaluated = new Map<SecretsModule | 'agenix-main-activation', { ev: EvaluatedHost; config: Record<string, unknown> }>();
  let n = 0;

  before(() => {
    for (const m of ['agenix-0.15.0', 'agenix-main', 'sops-nix'] as const) {
      const config = m === 'sops-nix' ? sopsConfig(SOPS_KEY) : agenixConfig({ sysusers: m === 'agenix-main' });
      evaluated.set(m, { ev: evalSecretsModule(m, config), config });
    }
    // agenix main without sysusers: its `ln -sfT` lines in the activation script, not in a unit.
    const plain = agenixConfig();
    evaluated.set('agenix-main-activation', { ev: evalSecretsModule('agenix-main', plain), config: plain });
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  /** Build the host, run the real script on it, judge it as `bootstrap status` does. */
  const report = (which: SecretsModule | 'agenix-main-activation', over: Partial<HostCase> = {}) => {
    const m: SecretsModule = which === 'agenix-main-activation' ? 'agenix-main' : which;
    const { ev, config } = evaluated.get(which)!;
    const root = `${base}/${++n}`;
    const { keyFiles } = buildNixosHost(root, hostCase(m, ev, over), config);
    const facts = parseHealthOutput(runHealthScript(root, keyFiles));
    const cfg = ConfigSchema.parse({ sops: { mode: m === 'sops-nix' ? 'sops' : 'agenix', keyPath: SOPS_KEY } });
    const checks = buildHealthChecks(facts, buildExpectations('web1', MANIFEST, cfg, BUILT, 'status'), KEY);
    return { facts, checks, status: worstStatus(checks) };
  };
  const one = (cs: HealthCheck[], id: string) => {
    const hit = cs.filter((c) => c.id === id);
    assert.equal(hit.length, 1, `one ${id}, got ${hit.length}`);
    return hit[0]!;
  };
  /** Everything ok or n/a, except the checks named (which must have these statuses). */
  const onlyProblems = (cs: HealthCheck[], want: Record<string, string>) => {
    const bad = cs.filter((c) => c.status === 'warn' || c.status === 'fail').map((c) => [c.id, c.status]);
    assert.deepEqual(Object.fromEntries(bad), want, JSON.stringify(cs.filter((c) => c.status === 'warn' || c.status === 'fail')));
  };

  test('the activation scripts are what upstream makes: 0.15.0 links with ln -sfn, main with ln -sfT in its sysusers unit', () => {
    assert.match(evaluated.get('agenix-0.15.0')!.ev.activate, /ln -sfn "\/run\/agenix\/db-password" "\/etc\/db-password"/);
    assert.doesNotMatch(evaluated.get('agenix-0.15.0')!.ev.activate, /ln -sfT/);
    const main = evaluated.get('agenix-main')!.ev;
    assert.match(main.units['agenix-install-secrets']!.script!, /ln -sfT "\/run\/agenix\/db-password" "\/etc\/db-password"/);
    assert.doesNotMatch(main.activate, /decrypting '/, 'with sysusers, agenix leaves the activation script');
    assert.match(evaluated.get('agenix-main-activation')!.ev.activate, /ln -sfT "\/run\/agenix\.d\/\$_agenix_generation" \/run\/agenix/);
    assert.match(evaluated.get('sops-nix')!.ev.activate, /sops-install-secrets \/nix\/store\/[0-9a-z]{32}-manifest\.json/);
  });

  for (const m of ['sops-nix', 'agenix-0.15.0', 'agenix-main', 'agenix-main-activation'] as const) {
    test(`healthy ${m} host: every check ok or n/a`, () => {
      const r = report(m);
      onlyProblems(r.checks, {});
      assert.equal(r.status, 'ok');
      const secrets = one(r.checks, m === 'sops-nix' ? 'secrets.sops' : 'secrets.agenix');
      assert.equal(secrets.status, 'ok');
      assert.match(secrets.summary, /2 present/);
      assert.equal(one(r.checks, 'system.reboot').status, 'ok');
      assert.equal(r.facts.cache.substituters[0], 'https://cache.nixos.org/', 'nix.conf `include caches.conf` followed');
    });
  }

  test('missing agenix secret: secrets.agenix fails naming it, nothing else', () => {
    const r = report('agenix-0.15.0', { missing: ['db-password'] });
    onlyProblems(r.checks, { 'secrets.agenix': 'fail' });
    assert.match(one(r.checks, 'secrets.agenix').summary, /\/etc\/db-password/);
    assert.match(one(r.checks, 'secrets.agenix').hint!, /journalctl/);
  });

  test('missing sops secret: secrets.sops fails naming it, nothing else', () => {
    const r = report('sops-nix', { missing: ['restic-password'] });
    onlyProblems(r.checks, { 'secrets.sops': 'fail' });
    assert.match(one(r.checks, 'secrets.sops').summary, /1 of 2 missing: \/run\/secrets\/restic-password/);
    assert.match(one(r.checks, 'secrets.sops').hint!, /sops updatekeys/);
  });

  test('a sops-nix activation that failed (old generation kept, every file there) fails', () => {
    const r = report('sops-nix', { sopsFailedActivation: true });
    onlyProblems(r.checks, { 'secrets.sops': 'fail' });
    assert.match(one(r.checks, 'secrets.sops').summary, /last activation did not install them; \/run\/secrets still holds the generation of/);
    assert.match(one(r.checks, 'secrets.sops').hint!, /old values are in use/);
  });

  test('failed unit: system.failed-units fails naming it (and the degraded state warns)', () => {
    const r = report('sops-nix', { failedUnits: ['nginx.service'] });
    onlyProblems(r.checks, { 'system.failed-units': 'fail', 'system.state': 'warn' });
    assert.equal(one(r.checks, 'system.failed-units').summary, '1 failed unit: nginx.service');
    assert.match(one(r.checks, 'system.failed-units').hint!, /journalctl -b -u nginx\.service/);
  });

  test('backup running: the timer has no next run while it runs, and that is "running now", not a failure', () => {
    const r = report('agenix-main', { backup: 'running' });
    assert.equal(r.facts.backups?.[0]?.next, null, 'systemd shows no next elapse during the run');
    onlyProblems(r.checks, {});
    assert.match(one(r.checks, 'backups.timer').summary, /running now/);
    assert.match(one(r.checks, 'backups.last-run').summary, /running now/);
  });

  test('backup failed before a reboot: the fresh unit says success, the journal says exit-code: fail', () => {
    const r = report('sops-nix', { backup: 'failed-before-reboot' });
    assert.equal(r.facts.backups?.[0]?.serviceResult, 'success', 'systemd reset the result at boot');
    onlyProblems(r.checks, { 'backups.last-run': 'fail' });
    assert.match(one(r.checks, 'backups.last-run').summary, /failed \(exit-code; before the last boot, from the journal\)/);
    assert.match(one(r.checks, 'backups.last-run').hint!, /journalctl -u restic-backups-daily\.service/);
  });

  test('zram only: not the planned swap, disks.swap fails', () => {
    const r = report('agenix-0.15.0', { swap: 'zram-only' });
    onlyProblems(r.checks, { 'disks.swap': 'fail' });
    assert.match(one(r.checks, 'disks.swap').summary, /no swap active, planned 2\.0 GiB \(zram not counted\)/);
  });

  test('busybox swapon (no --show): the swap is read from /proc/swaps', () => {
    const r = report('sops-nix', { swap: 'busybox' });
    onlyProblems(r.checks, {});
    assert.deepEqual(r.facts.swaps, [{ name: '/dev/vda3', type: 'partition', sizeBytes: 2097148 * 1024 }]);
  });

  test('automount /boot (x-systemd.automount, not yet accessed): judged by the vfat it mounts', () => {
    const r = report('sops-nix', { bootAutomount: true });
    onlyProblems(r.checks, {});
    assert.match(one(r.checks, 'disks.boot').summary, /\/boot is the ESP \(vfat on \/dev\/disk\/by-partlabel\/disk-main-ESP, automounted on access\)/);
  });

  test('specialisation of the built system: counts as that system, no boot-entry warning', () => {
    const r = report('agenix-0.15.0', { specialisation: true });
    onlyProblems(r.checks, {});
    assert.match(one(r.checks, 'system.generation').summary, /runs specialisation "nogpu" of the system bootstrap built/);
  });

  test('needs reboot and the running revision: in the facts and the checks', () => {
    const r = report('sops-nix', { kernelUpdated: true, revision: '5f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b' });
    onlyProblems(r.checks, { 'system.reboot': 'warn' });
    assert.deepEqual(needsReboot(r.facts), { needed: true, differ: ['kernel', 'initrd', 'kernel-modules'] });
    assert.equal(r.facts.system.revision, '5f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b');
    assert.match(one(r.checks, 'system.revision').summary, /runs flake revision 5f3c2a1b/);
    const plain = report('sops-nix');
    assert.equal(plain.facts.system.revision, null, 'nixos-version says the revision is unknown');
    assert.equal(one(plain.checks, 'system.revision').status, 'n/a');
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDriftFacts, classifyDrift, formatAge, renderDriftTable, type DriftFacts } from './drift.js';
import { parseHealthOutput } from '../../health/parse.js';

/** The health script's sections drift reads (src/health/script.sh: system, upgrade), as a host prints them. */
const health = (system: string[], upgrade: string[]) => [
  '@@nb-health v1', '@@nb-health section system', ...system, '@@nb-health section upgrade', ...upgrade, '@@nb-health end', '',
].join('\n');

test("the host side comes from the health report's facts: systems, reboot, revision, age, the last auto-upgrade", () => {
  const out = health([
    'now_epoch=91000',
    'current=/nix/store/aaa-nixos-system-web1-25.05',
    'booted=/nix/store/bbb-nixos-system-web1-25.05',
    'profile_link=system-7-link',
    'profile=/nix/store/aaa-nixos-system-web1-25.05',
    'profile_epoch=1000',
    'bootfile=booted kernel /nix/store/k1-linux/bzImage',
    'bootfile=current kernel /nix/store/k2-linux/bzImage',
    'revision=0123456789abcdef',
  ], ['LoadState=loaded', 'Result=exit-code', 'ExecMainExitTimestamp=Mon 2026-12-07 04:40:12 UTC', 'ActiveState=failed']);
  assert.deepEqual(buildDriftFacts(parseHealthOutput(out)), {
    current: '/nix/store/aaa-nixos-system-web1-25.05',
    booted: '/nix/store/bbb-nixos-system-web1-25.05',
    needsReboot: true,
    revision: '0123456789abcdef',
    generationAgeSeconds: 90000,
    autoUpgrade: { result: 'exit-code', lastRun: 'Mon 2026-12-07 04:40:12 UTC', active: 'failed' },
  });
  // A host without auto-upgrade (systemd reports the unit not-found), a revision or a profile.
  const bare = buildDriftFacts(parseHealthOutput(health(['current=/nix/store/aaa', 'now_epoch=5'], ['LoadState=not-found', 'Result=success'])));
  assert.deepEqual(bare, { current: '/nix/store/aaa', booted: null, needsReboot: null, revision: null, generationAgeSeconds: null, autoUpgrade: null });
  // An older report without the upgrade section still parses.
  assert.equal(buildDriftFacts(parseHealthOutput('@@nb-health v1\n@@nb-health section system\ncurrent=/nix/store/aaa\n@@nb-health end\n')).autoUpgrade, null);
});

const facts = (o: Partial<DriftFacts> = {}): DriftFacts => ({ current: '/nix/store/aaa', booted: '/nix/store/aaa', needsReboot: false, revision: null, generationAgeSeconds: 60, autoUpgrade: null, ...o });
const ok = { status: 'ok' as const };

test('each host gets one state: unreachable, unhealthy, drift, needs reboot, up to date', () => {
  assert.equal(classifyDrift(ok, facts(), { system: '/nix/store/aaa' }).state, 'up to date');
  assert.equal(classifyDrift(ok, facts(), { system: '/nix/store/ccc' }).state, 'drift');
  assert.equal(classifyDrift(ok, facts({ needsReboot: true }), { system: '/nix/store/aaa' }).state, 'needs reboot');
  assert.equal(classifyDrift(ok, facts({ needsReboot: true }), { system: '/nix/store/ccc' }).state, 'drift', 'drift wins over a pending reboot');
  assert.equal(classifyDrift({ status: 'fail' }, facts(), { system: '/nix/store/aaa' }).state, 'unhealthy');
  assert.equal(classifyDrift({ status: 'fail', error: { code: 'unreachable' } }, undefined, { system: null, error: 'x' }).state, 'unreachable');
  // Reached, but its health script failed: no facts, yet not unreachable.
  assert.equal(classifyDrift({ status: 'fail', error: { code: 'health-failed' } }, undefined, { system: '/nix/store/aaa' }).state, 'unhealthy');
  // A flake that does not evaluate is no drift claim either way.
  const noEval = classifyDrift(ok, facts(), { system: null, error: 'error: syntax error' });
  assert.equal(noEval.state, 'up to date');
  assert.equal(noEval.flakeError, 'error: syntax error');
});

test("the health report's needsReboot and revision, when it has them, win over the script's", () => {
  const d = classifyDrift({ status: 'ok', needsReboot: true, revision: 'feedbeef' }, facts({ needsReboot: false, revision: 'old' }), { system: '/nix/store/aaa' });
  assert.equal(d.state, 'needs reboot');
  assert.equal(d.revision, 'feedbeef');
  const fallback = classifyDrift({ status: 'ok' }, facts({ revision: 'old' }), { system: '/nix/store/aaa' });
  assert.equal(fallback.revision, 'old');
});

test('the table: one row a host, short store names, "same" when the flake agrees', () => {
  const same = classifyDrift(ok, facts({ current: '/nix/store/aaa-nixos-system-web1', generationAgeSeconds: 3 * 86_400, autoUpgrade: { result: 'success', lastRun: 'Mon 04:40', active: 'inactive' } }), { system: '/nix/store/aaa-nixos-system-web1' });
  const moved = classifyDrift(ok, facts({ current: '/nix/store/aaa-nixos-system-db1' }), { system: '/nix/store/ccc-nixos-system-db1' });
  const table = renderDriftTable([{ host: 'web1', drift: same }, { host: 'db1', drift: moved }]).split('\n');
  assert.match(table[0]!, /^HOST +STATE +RUNNING +FLAKE +REVISION +AGE +AUTO-UPGRADE$/);
  assert.match(table[1]!, /^web1 +up to date +aaa-nixos-system-web1 +same +- +3 d +success \(Mon 04:40\)$/);
  assert.match(table[2]!, /^db1 +drift +aaa-nixos-system-db1 +ccc-nixos-system-db1 +- +1 min +-$/);
  assert.equal(formatAge(7200), '2 h');
  assert.equal(formatAge(null), '-');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyDrift, formatAge, parseDriftFacts, renderDriftTable, type DriftFacts } from './drift.js';

const OUT = [
  'current=/nix/store/aaa-nixos-system-web1-25.05',
  'booted=/nix/store/bbb-nixos-system-web1-25.05',
  'needs_reboot=1',
  'generation_epoch=1000',
  'now_epoch=91000',
  'version_json={"configurationRevision":"0123456789abcdef","nixosVersion":"25.05.20250601.abc","nixpkgsRevision":"abc"}',
  'upgrade_LoadState=loaded',
  'upgrade_Result=exit-code',
  'upgrade_ExecMainExitTimestamp=Mon 2026-12-07 04:40:12 UTC',
  'upgrade_ActiveState=failed',
  'end=1',
].join('\n');

test('the host side parses: systems, reboot, revision, age, the last auto-upgrade', () => {
  assert.deepEqual(parseDriftFacts(OUT), {
    current: '/nix/store/aaa-nixos-system-web1-25.05',
    booted: '/nix/store/bbb-nixos-system-web1-25.05',
    needsReboot: true,
    revision: '0123456789abcdef',
    generationAgeSeconds: 90000,
    autoUpgrade: { result: 'exit-code', lastRun: 'Mon 2026-12-07 04:40:12 UTC', active: 'failed' },
  });
  // A host without auto-upgrade (systemd reports the unit not-found), nixos-version or a profile.
  const bare = parseDriftFacts('current=/nix/store/aaa\nupgrade_LoadState=not-found\nupgrade_Result=success\nnow_epoch=5\nend=1\n');
  assert.deepEqual(bare, { current: '/nix/store/aaa', booted: null, needsReboot: null, revision: null, generationAgeSeconds: null, autoUpgrade: null });
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildKnownHostsPath } from '../ssh/known-hosts-file.js';
import { buildLogPath } from '../installer/run-phases.js';
import { buildJournalPaths } from '../workflow/journal.js';
import { buildStatePath } from '../workflow/install/state.js';
import { statePaths } from './state-paths.js';

test('every state path follows the configured stateDir; the default is .bootstrap', () => {
  const now = new Date('2026-07-22T07:18:28.123Z');
  const def = statePaths('/f');
  assert.equal(def.knownHosts, '/f/.bootstrap/known_hosts');
  assert.equal(def.installLog('web1', now), '/f/.bootstrap/logs/web1-2026-07-22T07-18-28Z.log');
  const p = statePaths('/f', 'var/nb');
  assert.deepEqual(
    [p.knownHosts, p.journal('web1'), p.lock('web1'), p.runState('web1'), p.fleetLog('web1', 'S')],
    ['/f/var/nb/known_hosts', '/f/var/nb/state/web1/journal.jsonl', '/f/var/nb/state/web1/lock', '/f/var/nb/state/web1/run.json', '/f/var/nb/logs/fleet-web1-S.log'],
  );
});

test('the older builders are views of the same owner (no second place builds a state path)', () => {
  const now = new Date('2026-07-22T07:18:28Z');
  const p = statePaths('/f', 'st');
  assert.equal(buildKnownHostsPath('/f', 'st'), p.knownHosts);
  assert.equal(buildLogPath('/f', 'web1', now, 'st'), p.installLog('web1', now));
  assert.equal(buildStatePath('/f', 'st', 'web1'), p.runState('web1'));
  const j = buildJournalPaths('/f', 'web1', 'st');
  assert.deepEqual([j.dir, j.path, j.lockPath], [p.hostDir('web1'), p.journal('web1'), p.lock('web1')]);
  assert.equal(buildKnownHostsPath('/f'), '/f/.bootstrap/known_hosts');
});

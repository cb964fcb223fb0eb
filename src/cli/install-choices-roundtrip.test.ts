/**
 * Every install choice the host manifest records survives flags → answers → plan → manifest →
 * answers (what rebuild replays), and a replayed manifest plans the same manifest again. The
 * scenarios together must give every such choice: a new one is not covered until added here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadReport } from '../../test/helpers/reports.js';
import { parseManifest } from '../manifest/manifest.js';
import { loadProfiles } from '../profiles/load.js';
import { parseSize } from '../render/plan-choices.js';
import { buildHostPlan } from '../render/plan.js';
import { parseTarget } from '../ssh/target.js';
import type { InstallAnswers } from '../workflow/install/answers.js';
import { buildAnswersFromManifest } from '../workflow/install/choice-maps.js';
import { CHOICE_KEYS, INSTALL_CHOICES, type Choice, type ChoiceKey } from '../workflow/install/choices.js';
import { buildPlanAnswers } from '../workflow/install/prepare.js';
import type { Manifest } from '../manifest/schema.js';
import { parseCommandArgs } from './args.js';
import { installCommands } from './commands/install.js';
import { buildAnswersFromArgs } from './install-flags.js';

const profiles = await loadProfiles();
const newHost = installCommands.find((c) => c.name === 'new-host')!;
const DISK_A = '/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456';
const DISK_B = '/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T654321';

const SCENARIOS: Array<{ report: string; argv: string[] }> = [
  {
    report: 'hetzner-dedicated-2nvme',
    argv: ['db3', '--target', 'root@203.0.113.7:2222', '--profile', 'hetzner-dedicated', '--layout', 'btrfs-raid1', '--disk', DISK_A, '--second-disk', DISK_B,
      '--swap', '8G', '--hibernate', '--subvolume', 'containers', '--subvolume', 'srv=/srv/data', '--copy-host-keys', '--post-kexec-port', '2200',
      '--phase-timeout', 'install=2h', '--phase-timeout', 'kexec=900', '--login-user', 'ops'],
  },
  { report: 'amd-laptop', argv: ['laptop', '--target', 'root@192.0.2.9', '--encrypt', '--swap', '0'] },
];

/** One install as prepare.ts plans it: the manifest it writes, parsed. */
function planManifest(report: string, a: InstallAnswers, existing?: Manifest): Manifest {
  // The identity rule of prepare.ts runPreparePlan: --copy-host-keys, else what the manifest had.
  const identity = a.copyHostKeys ? 'copy-target-keys' : (existing?.install?.identity ?? 'provisioned');
  const plan = buildHostPlan({ host: a.host!, report: loadReport(report), answers: buildPlanAnswers(a, parseTarget(a.target!), identity), profiles, ...(existing ? { existingManifest: existing } : {}) });
  const file = plan.files.find((f) => f.path.endsWith('bootstrap.toml'))!;
  return parseManifest(file.content, file.path);
}

/** How the plan takes an answer, so "8G" and "8589934592" compare as the same swap. */
const comparable = (key: ChoiceKey, v: unknown) => (key === 'swap' ? parseSize(v as string) : v);

test('every manifest choice round-trips flags → answers → manifest → answers', () => {
  const covered = new Set<ChoiceKey>();
  for (const s of SCENARIOS) {
    const args = parseCommandArgs('new-host', s.argv, newHost.options, 1);
    const given: InstallAnswers = { ...buildAnswersFromArgs(args), host: args.positionals[0]! };
    const manifest = planManifest(s.report, given);
    const back = buildAnswersFromManifest(manifest);
    for (const key of CHOICE_KEYS) {
      if (!(INSTALL_CHOICES[key] as Choice).manifest || given[key] === undefined) continue;
      covered.add(key);
      const want = key === 'phaseTimeouts' ? { ...given.phaseTimeouts } : given[key];
      assert.deepEqual(comparable(key, back[key]), comparable(key, want), `${s.report}: ${key} (manifest ${(INSTALL_CHOICES[key] as Choice).manifest!.key})`);
    }
    // Replayed (rebuild): the same manifest again, byte for byte in meaning.
    assert.deepEqual(planManifest(s.report, { ...back, target: given.target! }, manifest), manifest, `${s.report}: a replayed manifest plans itself`);
  }
  const recorded = CHOICE_KEYS.filter((k) => (INSTALL_CHOICES[k] as Choice).manifest);
  assert.deepEqual([...covered].sort(), [...recorded].sort(), 'a scenario must give every choice the manifest records');
});

test('the manifest keys the table names are where the manifest holds the values', () => {
  const s = SCENARIOS[0]!;
  const args = parseCommandArgs('new-host', s.argv, newHost.options, 1);
  const manifest = planManifest(s.report, { ...buildAnswersFromArgs(args), host: 'db3' });
  const at = (path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], manifest);
  for (const key of CHOICE_KEYS) {
    const m = (INSTALL_CHOICES[key] as Choice).manifest;
    if (m) assert.notEqual(at(m.key), undefined, `${key}: the manifest has nothing at ${m.key}`);
  }
  assert.deepEqual(at('install.phaseTimeouts'), { install: '2h', kexec: '900' });
  assert.equal(at('install.identity'), 'copy-target-keys');
  assert.equal(at('layout.swapBytes'), 8 * 1024 ** 3);
});

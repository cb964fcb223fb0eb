/** recover on new hardware: hardware.nix (tool-owned) is made again from the new report, not kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles } from '../../src/profiles/load.js';
import { buildHostPlan } from '../../src/render/plan.js';
import { applyFilePlan, planFiles } from '../../src/render/file-plan.js';
import { parseManifest } from '../../src/manifest/manifest.js';
import { loadReport } from '../helpers/reports.js';
import { withTempDir } from '../helpers/tmp.js';

test('a re-plan against a new machine updates hardware.nix and facts.json', async () => {
  const profiles = await loadProfiles();
  await withTempDir(async (dir) => {
    const old = buildHostPlan({ host: 'web1', report: loadReport('hetzner-cloud-x86'), answers: {}, profiles });
    await applyFilePlan(dir, await planFiles(dir, old.files));
    const manifest = parseManifest(old.files.find((f) => f.path.endsWith('bootstrap.toml'))!.content, 'bootstrap.toml');
    const now = buildHostPlan({ host: 'web1', report: loadReport('netcup-vps'), answers: { profile: manifest.profile }, profiles, existingManifest: manifest });
    const entries = await planFiles(dir, now.files);
    const hw = entries.find((e) => e.path === 'hosts/web1/hardware.nix')!;
    assert.equal(hw.action, 'update');
    assert.equal(hw.content, now.files.find((f) => f.path === 'hosts/web1/hardware.nix')!.content);
    assert.equal(entries.find((e) => e.path === 'hosts/web1/facts.json')!.action, 'update');
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import { applyFilePlan, planFiles } from './file-plan.js';

test('an update keeps the file\'s mode (a 0600 .sops.yaml stays 0600); a new file is 0644 at most', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, '.sops.yaml'), 'keys: []\n');
    chmodSync(join(dir, '.sops.yaml'), 0o600);
    const entries = await planFiles(dir, [
      { path: '.sops.yaml', content: 'keys:\n  - &web1 age1x\n', owner: 'tool' },
      { path: 'hosts/web1/default.nix', content: '{ }\n', owner: 'tool' },
    ] as Parameters<typeof planFiles>[1]);
    assert.deepEqual(entries.map((e) => e.action), ['update', 'create']);
    await applyFilePlan(dir, entries);
    assert.equal(readFileSync(join(dir, '.sops.yaml'), 'utf8'), 'keys:\n  - &web1 age1x\n');
    assert.equal(statSync(join(dir, '.sops.yaml')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'hosts/web1/default.nix')).mode & 0o022, 0, 'not group/world writable');
  });
});

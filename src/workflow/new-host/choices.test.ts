/** The wizard's pure choices: the layout question names the machine's default; encryption and subvolumes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLayout } from '../../render/disko/index.js';
import { loadProfiles } from '../../profiles/load.js';
import { buildLayoutQuestion, encryptedVariantOf, parseSubvolumeList, plainLayoutOf, supportsSubvolumes } from './choices.js';

test('the layout question names the default and its profile, and lists encrypted twins once', async () => {
  const profile = (await loadProfiles()).find((p) => p.name === 'generic-kvm-vps')!;
  const q = buildLayoutQuestion({ profile, usableDisks: 1, boot: 'bios' });
  assert.match(q.message, /default for this machine: \S+ \(profile generic-kvm-vps\)/);
  const names = q.choices.map((c) => c.value);
  assert.ok(!names.includes('luks-btrfs'), 'asked as "encrypt?" after single-btrfs');
  assert.ok(names.every((n) => findLayout(n).disksRequired === 1), 'two-disk layouts need two disks');
  assert.equal(q.choices.filter((c) => c.name.endsWith('(default)')).length, 1);
  assert.equal(buildLayoutQuestion({ profile, usableDisks: 1, boot: 'bios', current: 'luks-btrfs' }).default, 'single-btrfs');
});

test('encryption pairs and subvolume support', () => {
  assert.equal(encryptedVariantOf(findLayout('single-btrfs'))?.name, 'luks-btrfs');
  assert.equal(encryptedVariantOf(findLayout('single-ext4')), undefined);
  assert.equal(plainLayoutOf(findLayout('luks-btrfs')).name, 'single-btrfs');
  assert.equal(plainLayoutOf(findLayout('mdadm-raid1')).name, 'mdadm-raid1');
  assert.ok(supportsSubvolumes(findLayout('luks-btrfs')));
  assert.ok(!supportsSubvolumes(findLayout('single-ext4')));
  assert.deepEqual(parseSubvolumeList(' containers, data=/srv/data ,, '), ['containers', 'data=/srv/data']);
  assert.deepEqual(parseSubvolumeList(''), []);
});

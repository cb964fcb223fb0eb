import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import { isBootstrapError } from '../errors.js';
import { buildManifestToml, parseManifest, readManifest } from './manifest.js';
import type { ManifestInput } from './schema.js';

const BASE: ManifestInput = {
  version: 1,
  host: 'web1',
  target: 'root@[2001:db8::1]:2222',
  profile: 'hetzner-cloud-x86',
  layout: { name: 'single-ext4', swapBytes: 4294967296, hibernate: false },
  installDisk: { byId: '/dev/disk/by-id/scsi-0QEMU_X', path: '/dev/disk/by-id/scsi-0QEMU_X', sizeBytes: 4000787030016, serial: 'X' },
};

test('build → parse round-trips, with a stable key order and no nulls', () => {
  const text = buildManifestToml({ ...BASE, installDisk: { ...BASE.installDisk, model: undefined }, install: { identity: 'copy-target-keys' } });
  assert.equal(text, buildManifestToml({ install: { identity: 'copy-target-keys' }, ...BASE }));
  assert.match(text, /^version = 1\nhost = "web1"\ntarget = "root@\[2001:db8::1\]:2222"\nprofile = "hetzner-cloud-x86"\n/m);
  const m = parseManifest(text, 'bootstrap.toml');
  assert.equal(m.installDisk.sizeBytes, 4000787030016);
  assert.equal(m.install?.identity, 'copy-target-keys');
  assert.equal(m.cache, undefined);
});

test('unknown keys are rejected with their path', () => {
  const text = buildManifestToml(BASE).replace('[installDisk]', '[installDisk]\nwwn = "x"');
  assert.throws(() => parseManifest(text, 'hosts/web1/bootstrap.toml'), (e) => isBootstrapError(e) && e.message === 'hosts/web1/bootstrap.toml: unknown key installDisk.wwn');
  assert.throws(() => parseManifest(buildManifestToml(BASE) + '\n[extra]\na = 1\n', 'm.toml'), /unknown key extra/);
});

test('secrets are references, never values', () => {
  assert.doesNotThrow(() => buildManifestToml({ ...BASE, secrets: { hostKey: 'local:hosts/web1/ssh_host_ed25519_key', luks: 'op://infra/web1/luks' } }));
  assert.throws(() => buildManifestToml({ ...BASE, secrets: { luks: 'hunter2' } }), /secrets\.luks: must be a secret reference/);
});

test('readManifest finds hosts/HOST/bootstrap.toml under the configured hostsDir', async () => {
  await withTempDir(async (flake) => {
    await assert.rejects(readManifest(flake, 'web1'), (e) => isBootstrapError(e) && e.code === 'no-manifest');
    await writeFile(join(flake, 'bootstrap.toml'), 'hostsDir = "machines"\n');
    await mkdir(join(flake, 'machines/web1'), { recursive: true });
    await writeFile(join(flake, 'machines/web1/bootstrap.toml'), buildManifestToml(BASE));
    assert.equal((await readManifest(flake, 'web1')).profile, 'hetzner-cloud-x86');
    await mkdir(join(flake, 'machines/web2'));
    await writeFile(join(flake, 'machines/web2/bootstrap.toml'), buildManifestToml(BASE));
    await assert.rejects(readManifest(flake, 'web2'), /host is "web1", expected "web2"/);
  });
});

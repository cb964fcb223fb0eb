/**
 * backup setup/status and restore with REAL restic against s3rver over TLS (shared/test-infra.md
 * §4b: over http restic's streaming signatures corrupt the repository silently).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, lstat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { runRestic } from '../../src/storage/restic.js';
import { runRestore } from '../../src/storage/restore.js';
import { openHostRepo, runBackupSetup, runBackupStatus } from '../../src/workflow/storage/backup-setup.js';
import { MemorySecretStore } from '../fakes/memory-store.js';
import { evalExprJson } from '../helpers/nix.js';
import { startS3rver, type LocalS3 } from '../helpers/s3.js';
import { makeTempDir } from '../helpers/tmp.js';
import { assertNoLeak, captureCtx } from './capture.js';

/** path → sha256 (files), link target (symlinks), "dir" — the whole tree, for byte-for-byte comparison. */
async function treeDigest(root: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const p = join(rel, name);
    const st = await lstat(join(root, p));
    if (st.isSymbolicLink()) out[p] = `link:${await readlink(join(root, p))}`;
    else if (st.isDirectory()) {
      out[p] = `dir:${(st.mode & 0o777).toString(8)}`;
      Object.assign(out, await treeDigest(root, p));
    } else out[p] = `file:${(st.mode & 0o777).toString(8)}:${createHash('sha256').update(await readFile(join(root, p))).digest('hex')}`;
  }
  return out;
}

describe('backups with real restic on s3rver over TLS', () => {
  let s3: LocalS3;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  // s3rver checks key ids but not SigV4 signatures, so a distinctive secret works and is easy to scan for.
  const SECRET = 'leakcanary-secret-9f3b2c71';
  before(async () => {
    s3 = await startS3rver({ tls: true });
    tmp = await makeTempDir('nb-backup-');
  });
  after(async () => {
    await s3?.close();
    await tmp?.cleanup();
  });

  it('sets up, backs up, lists and restores byte for byte, leaking nothing', async () => {
    const flake = join(tmp.dir, 'flake');
    await mkdir(flake, { recursive: true });
    await writeFile(join(flake, 'bootstrap.toml'), [
      '[storage.local]', 'provider = "custom"', `endpoint = "${s3.endpoint}"`, 'bucket = "fleet-backups"', 'region = "us-east-1"', `caCert = "${s3.certFile}"`,
      '[backup]', 'paths = ["/srv", "/var/lib"]',
    ].join('\n'));
    await writeFile(join(flake, 'flake.lock'), JSON.stringify({ root: 'root', version: 7, nodes: { root: { inputs: { nixpkgs: 'nixpkgs' } }, nixpkgs: { original: { owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05', type: 'github' } } } }));
    const loaded = await loadConfig(flake);
    const store = new MemorySecretStore({ 'storage/local/access-key-id': 'S3RVER\n', 'storage/local/secret-access-key': `${SECRET}\n` });
    const ctx = captureCtx();

    const r = await runBackupSetup(ctx, loaded, store, { host: 'web1', secretsMode: 'sops', createBucket: true, dryRun: false });
    assert.equal(r.init, 'created');
    assert.equal(r.release, '24.05');
    assert.equal(r.repository, `s3:${s3.endpoint}/fleet-backups/restic/web1`);
    // caCert is set: the CA goes next to backup.nix so the host's restic trusts the endpoint too.
    assert.deepEqual(r.files, ['hosts/web1/backup.nix', 'hosts/web1/storage-ca-local.pem']);
    const password = store.values.get('hosts/web1/restic-password')!;
    assert.ok(password.length >= 40, 'a long random password was made and stored');
    assert.match(store.values.get('hosts/web1/restic-env')!, /^AWS_ACCESS_KEY_ID=S3RVER\nAWS_SECRET_ACCESS_KEY=leakcanary-secret-9f3b2c71\n/);
    // It says how the values reach the host under sops (they stay in the store until then).
    assert.match(ctx.text(), /next: add "restic-password", "restic-env" to web1's sops file/);

    // A second setup keeps the password and accepts the initialized repository.
    const again = await runBackupSetup(ctx, loaded, store, { host: 'web1', secretsMode: 'sops', createBucket: false, dryRun: false });
    assert.equal(again.init, 'exists');
    assert.equal(store.values.get('hosts/web1/restic-password'), password);

    // The rendered module evaluates with real Nix and carries the 24.05 option names.
    const nix = await readFile(join(flake, 'hosts/web1/backup.nix'), 'utf8');
    // Evaluated where it was written: its CA file sits beside it (security.pki is checked in storage-json-cli).
    assert.ok(nix.includes('./storage-ca-local.pem'));
    const mod = (await evalExprJson(`{ inherit ((import ${join(flake, 'hosts/web1/backup.nix')}) { config = { sops.secrets = { "restic-password".path = "/run/secrets/restic-password"; "restic-env".path = "/run/secrets/restic-env"; }; }; }) services; }`)) as {
      services: { restic: { backups: { bootstrap: Record<string, unknown> } } };
    };
    const b = mod.services.restic.backups.bootstrap;
    assert.equal(b.repository, r.repository);
    assert.deepEqual(b.paths, ['/srv', '/var/lib']);
    assert.equal(b.passwordFile, '/run/secrets/restic-password');
    assert.equal(b.environmentFile, '/run/secrets/restic-env');
    assert.equal(b.runCheck, true);
    assert.ok(Array.isArray(b.exclude));

    // Back up a test tree as the host's timer would, then list and restore it.
    const src = join(tmp.dir, 'src');
    await mkdir(join(src, 'srv/app/data'), { recursive: true });
    await writeFile(join(src, 'srv/app/data/blob.bin'), createHash('sha512').update('x').digest().toString('binary').repeat(5000), 'binary');
    await writeFile(join(src, 'srv/app/config.toml'), 'answer = 42\n', { mode: 0o640 });
    await writeFile(join(src, 'srv/app/empty'), '');
    await symlink('data/blob.bin', join(src, 'srv/app/latest'));
    const { repo } = await openHostRepo(loaded, store, 'web1', {});
    // restic stores relative paths as given: back up "srv" from the tree's root.
    await runRestic(ctx.run, repo, ['backup', '--host', 'web1', 'srv'], { signal: ctx.signal, cwd: src });
    const status = await runBackupStatus(ctx, loaded, store, { host: 'web1' });
    assert.equal(status.snapshots.length, 1);

    const target = join(tmp.dir, 'restored');
    const restored = await runRestore(ctx, { host: 'web1', repo, target: { kind: 'local', dir: target } });
    assert.equal(restored.snapshot.id, status.snapshots[0]!.id);
    assert.equal(restored.verified, true);
    assert.deepEqual(await treeDigest(join(target, 'srv')), await treeDigest(join(src, 'srv')));

    const rendered = await readFile(join(flake, 'hosts/web1/backup.nix'), 'utf8');
    assertNoLeak(ctx.text(), [password, SECRET], 'output');
    assertNoLeak(rendered, [password, SECRET], 'backup.nix');
    assert.match(ctx.text(), /restic init/, 'the scan looked at real output');
  });
});

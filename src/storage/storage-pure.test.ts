/** Pure parts of src/storage: endpoints, release-dependent restic options, lifecycle rules, argv. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildS3Settings } from './s3-settings.js';
import { buildS3ClientConfig, isB2MasterKeyId } from './s3-client.js';
import { buildBackupSettings, parseNixpkgsRelease, type BackupPlan } from './backup-module.js';
import { hasKeepLastVersionRule, KEEP_LAST_VERSION_RULE } from './checks.js';
import { buildSshArgv } from './restore.js';
import { buildResticRepository } from './restic.js';
import { parseTarget } from '../ssh/target.js';

describe('S3 settings', () => {
  it('derives the B2 endpoint from the region, path style, and WHEN_REQUIRED checksums', () => {
    const s = buildS3Settings('b2main', { provider: 'b2', region: 'eu-central-003', bucket: 'my-fleet' });
    assert.equal(s.endpoint, 'https://s3.eu-central-003.backblazeb2.com');
    assert.equal(s.forcePathStyle, true);
    assert.deepEqual(s.secretNames, { accessKeyId: 'storage/b2main/access-key-id', secretAccessKey: 'storage/b2main/secret-access-key' });
    const c = buildS3ClientConfig(s, { accessKeyId: 'k', secretAccessKey: 's' });
    assert.equal(c.requestChecksumCalculation, 'WHEN_REQUIRED');
    assert.equal(c.responseChecksumValidation, 'WHEN_REQUIRED');
    assert.equal(buildResticRepository(s, 'restic', 'web1'), 's3:https://s3.eu-central-003.backblazeb2.com/my-fleet/restic/web1');
  });
  it('keeps AWS on its default checksums and virtual-host style', () => {
    const s = buildS3Settings('aws', { provider: 's3', region: 'eu-west-1', bucket: 'my-fleet' });
    assert.equal(s.endpoint, undefined);
    assert.equal(s.isAws, true);
    assert.equal('requestChecksumCalculation' in buildS3ClientConfig(s, { accessKeyId: 'k', secretAccessKey: 's' }), false);
  });
  it('rejects a bad B2 region, a missing bucket and a custom store without endpoint', () => {
    assert.throws(() => buildS3Settings('b', { provider: 'b2', region: 'europe', bucket: 'abc' }), /not a B2 region/);
    assert.throws(() => buildS3Settings('b', { provider: 'b2', region: 'eu-central-003' }), /has no bucket/);
    assert.throws(() => buildS3Settings('m', { provider: 'custom', bucket: 'abc' }), /needs an endpoint/);
    assert.throws(() => buildS3Settings('m', { provider: 'custom', endpoint: 'http://x', bucket: 'Bad_Name' }), /not a valid bucket/);
  });
  it('recognizes a B2 master key id (the account id)', () => {
    assert.equal(isB2MasterKeyId('0a1b2c3d4e5f'), true);
    assert.equal(isB2MasterKeyId('0050a1b2c3d4e5f0000000001'), false);
  });
});

describe('backup.nix options per NixOS release', () => {
  const plan: BackupPlan = {
    host: 'web1', hostDir: 'hosts/web1', repository: 's3:https://x/b/restic/web1', s3: true, paths: ['/srv'], exclude: ['/srv/cache'],
    onCalendar: 'daily', pruneOpts: ['--keep-daily 7'], release: '25.05', secretsMode: 'sops',
  };
  it('uses exclude and runCheck from 24.05', () => {
    const s = buildBackupSettings(plan);
    assert.deepEqual(s.exclude, ['/srv/cache']);
    assert.equal(s.runCheck, true);
    assert.equal(s.extraBackupArgs, undefined);
  });
  it('puts excludes in extraBackupArgs before 23.05 and has no runCheck before 24.05', () => {
    const s = buildBackupSettings({ ...plan, release: '22.11' });
    assert.equal(s.exclude, undefined);
    assert.deepEqual(s.extraBackupArgs, ['--exclude=/srv/cache']);
    assert.equal(s.runCheck, undefined);
    assert.ok(s.checkOpts);
  });
  it('uses s3CredentialsFile before 21.11', () => {
    const s = buildBackupSettings({ ...plan, release: '21.05' });
    assert.ok(s.s3CredentialsFile);
    assert.equal(s.environmentFile, undefined);
    assert.equal(s.checkOpts, undefined);
  });
  it('reads the pinned release from flake.lock', () => {
    const lock = (ref?: string, input: unknown = 'nixpkgs_2') => JSON.stringify({ root: 'root', nodes: { root: { inputs: { nixpkgs: input } }, nixpkgs_2: { original: { ref } } } });
    assert.equal(parseNixpkgsRelease(lock('nixos-24.05')), '24.05');
    assert.equal(parseNixpkgsRelease(lock('nixos-24.11-small')), '24.11');
    assert.equal(parseNixpkgsRelease(lock('nixos-unstable')), 'unstable');
    assert.equal(parseNixpkgsRelease(lock(undefined)), undefined);
    assert.equal(parseNixpkgsRelease('not json'), undefined);
  });
});

describe('lifecycle rule and restore argv', () => {
  it('accepts a whole-bucket noncurrent expiration, not a prefixed or disabled one', () => {
    assert.equal(hasKeepLastVersionRule([KEEP_LAST_VERSION_RULE]), true);
    assert.equal(hasKeepLastVersionRule([{ ...KEEP_LAST_VERSION_RULE, Status: 'Disabled' }]), false);
    assert.equal(hasKeepLastVersionRule([{ ...KEEP_LAST_VERSION_RULE, Filter: { Prefix: 'logs/' } }]), false);
    assert.equal(hasKeepLastVersionRule(undefined), false);
  });
  it('runs the host\'s restic wrapper over ssh with a pinned known_hosts file', () => {
    const argv = buildSshArgv({ kind: 'ssh', target: parseTarget('root@203.0.113.7:2222', { identityFile: '/k' }), knownHostsFile: '/kh' }, ['restic-bootstrap', 'snapshots', '--json']);
    assert.deepEqual(argv, ['ssh', '-p', '2222', '-o', 'BatchMode=yes', '-i', '/k', '-o', 'IdentitiesOnly=yes', '-o', 'UserKnownHostsFile=/kh', '-o', 'StrictHostKeyChecking=yes', 'root@203.0.113.7', '--', 'restic-bootstrap', 'snapshots', '--json']);
  });
});

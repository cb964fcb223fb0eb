/**
 * Storage commands through the real CLI (issue 11 items 7 and 9): `cache setup`, `cache create`
 * and `backup setup` with `--json` against s3rver over TLS with a private CA (caCert, relative to
 * the flake), the local age vault, real restic and a fake atticd. The results parse as JSON and
 * hold no secret; the CA reaches the host's modules (evaluated with nix-instantiate); the netrc
 * names the substituter's host; attic's cache-name rule; no AWS SDK Node-version notice.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../src/exec/run.js';
import { publicKeyPem, signingKeyFromPem } from '../../src/storage/attic-tokens.js';
import { startAtticFake, type AtticFake } from '../fakes/attic-server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { evalExprJson, withNixFiles } from '../helpers/nix.js';
import { startS3rver, type LocalS3 } from '../helpers/s3.js';
import { makeTempDir } from '../helpers/tmp.js';

const SECRET = 'leakcanary-json-4be1c0de';
const SDK_NOTICE = /NodeVersionSupportWarning|will require node/;

describe('storage commands with --json through the CLI, over TLS with a private CA', () => {
  let s3: LocalS3;
  let attic: AtticFake | undefined;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let flake: string;
  let admin: string;
  let env: Record<string, string | undefined>;
  const outputs: CliResult[] = [];
  // cwd is NOT the flake: caCert = "certs/minio-ca.pem" must be read relative to the flake.
  const cli = async (args: string[], input?: string) => {
    const r = await runCli([...args, '--flake', flake], { env, cwd: tmp.dir, ...(input !== undefined ? { input } : {}), timeoutMs: 120_000 });
    outputs.push(r);
    return r;
  };
  const decrypt = async (name: string) => (await runCommand(['age', '-d', '-i', admin, join(flake, 'secrets/bootstrap', `${name}.age`)])).stdout;

  before(async () => {
    s3 = await startS3rver({ tls: true });
    tmp = await makeTempDir('nb-storage-json-');
    flake = join(tmp.dir, 'flake');
    await mkdir(join(flake, 'certs'), { recursive: true });
    await copyFile(s3.certFile!, join(flake, 'certs/minio-ca.pem'));
    admin = join(tmp.dir, 'admin.txt');
    await runCommand(['age-keygen', '-o', admin]);
    const recipient = (await runCommand(['age-keygen', '-y', admin])).stdout.trim();
    await writeFile(join(flake, 'bootstrap.toml'), [
      '[secrets.local]', `recipients = ["${recipient}"]`,
      '[storage.minio]', 'provider = "custom"', `endpoint = "${s3.endpoint}"`, 'bucket = "fleet-store"', 'region = "us-east-1"', 'caCert = "certs/minio-ca.pem"',
      '[cache]', 'server = "cache1"', 'url = "https://cache.example.org/"',
      '[backup]', 'paths = ["/srv"]',
    ].join('\n'));
    env = { BOOTSTRAP_AGE_IDENTITY: admin, HOME: join(tmp.dir, 'home'), OP_SERVICE_ACCOUNT_TOKEN: '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined };
    assert.equal((await cli(['secrets', 'set', 'storage/minio/access-key-id'], 'S3RVER\n')).code, 0);
    assert.equal((await cli(['secrets', 'set', 'storage/minio/secret-access-key'], `${SECRET}\n`)).code, 0);
  });
  after(async () => {
    await attic?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it('cache setup --dry-run --json is one document with the planned files, and writes nothing', async () => {
    const r = await cli(['cache', 'setup', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { dryRun: boolean; files: string[]; plan: Array<{ path: string; action: string; content?: string }>; caCert: string };
    assert.equal(j.dryRun, true);
    assert.deepEqual(j.files, []);
    assert.deepEqual(j.plan.map((f) => `${f.action} ${f.path}`), ['create hosts/cache1/attic.nix', 'create hosts/cache1/storage-ca-minio.pem']);
    assert.match(j.plan[0]!.content!, /services = \{/);
    assert.match(j.plan[1]!.content!, /^-----BEGIN CERTIFICATE-----\n/);
    assert.equal(j.caCert, 'hosts/cache1/storage-ca-minio.pem');
  });

  it('--secrets none and its old alias extra-files give the same result; another value is refused naming the choices', async () => {
    type Doc = { hostSecrets: { mode: string; names: string[] }; plan: Array<{ path: string; content?: string }> };
    const none = await cli(['cache', 'setup', '--dry-run', '--json', '--secrets', 'none']);
    assert.equal(none.code, 0, none.stderr);
    const old = await cli(['cache', 'setup', '--dry-run', '--json', '--secrets', 'extra-files']);
    assert.equal(old.code, 0, old.stderr);
    const a = JSON.parse(none.stdout) as Doc;
    const b = JSON.parse(old.stdout) as Doc;
    assert.deepEqual(a.hostSecrets, { mode: 'none', names: ['attic-env'] });
    assert.deepEqual(b.hostSecrets, a.hostSecrets);
    assert.deepEqual(b.plan, a.plan);
    // The module reads the plain file the install delivers; its header keeps the words users committed.
    assert.match(a.plan[0]!.content!, /come from the extra-files secret "attic-env"/);
    assert.match(a.plan[0]!.content!, /"\/var\/lib\/bootstrap\/secrets\/attic-env"/);

    const bad = await cli(['backup', 'setup', 'web1', '--secrets', 'vault', '--json']);
    assert.equal(bad.code, 2, bad.stderr);
    const doc = JSON.parse(bad.stdout) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(doc.error.code, 'bad-flag');
    assert.equal(doc.error.message, '--secrets must be one of sops, agenix, none, got "vault"');
  });

  it('cache setup --json reports what it made; attic.nix trusts the CA and evaluates for old and new attic modules', async () => {
    const r = await cli(['cache', 'setup', '--create-bucket', '--set-lifecycle', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, SDK_NOTICE, 'the AWS SDK Node-version notice is silenced');
    const j = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(j.server, 'cache1');
    assert.equal(j.cache, 'main');
    assert.equal(j.storage, 'minio');
    assert.equal(j.bucket, 'fleet-store');
    assert.equal(j.endpoint, s3.endpoint);
    assert.equal(j.dryRun, false);
    assert.equal(j.bucketStatus, 'created');
    assert.equal(j.signingKey, 'created');
    assert.deepEqual(j.tokens, { admin: 'minted', push: 'minted', pull: 'minted' });
    assert.deepEqual(j.files, ['hosts/cache1/attic.nix', 'hosts/cache1/storage-ca-minio.pem']);
    assert.deepEqual(j.hostSecrets, { mode: 'sops', names: ['attic-env'] });
    assert.equal(j.secretRefs.adminToken, 'local:secrets/bootstrap/attic/cache1/admin-token.age');
    for (const ref of Object.values(j.secretRefs as Record<string, string>)) assert.match(ref, /^local:secrets\/bootstrap\/.+\.age$/, 'references, never values');

    // A second run keeps the key and the tokens, and says so.
    const again = JSON.parse((await cli(['cache', 'setup', '--json'])).stdout) as Record<string, any>;
    assert.equal(again.signingKey, 'kept');
    assert.deepEqual(again.tokens, { admin: 'kept', push: 'kept', pull: 'kept' });
    assert.deepEqual(again.files, [], 'unchanged files are not rewritten');

    const atticNix = await readFile(join(flake, 'hosts/cache1/attic.nix'), 'utf8');
    const pem = await readFile(s3.certFile!, 'utf8');
    assert.equal(await readFile(join(flake, 'hosts/cache1/storage-ca-minio.pem'), 'utf8'), pem.trimEnd() + '\n');
    const config = '{ sops.secrets."attic-env".path = "/run/secrets/attic-env"; }';
    const evalWith = (optionName: string) => withNixFiles({ 'attic.nix': atticNix, 'storage-ca-minio.pem': pem }, (dir) => evalExprJson(
      `let m = import ${join(dir, 'attic.nix')} { config = ${config}; options = { services.atticd.${optionName} = { }; }; }; in ` +
      `{ atticd = m.services.atticd; ca = map builtins.readFile m.security.pki.certificateFiles; }`,
    )) as Promise<{ atticd: Record<string, any>; ca: string[] }>;
    // nixpkgs' module and attic's since 2024-10-14: environmentFile.
    const fresh = await evalWith('environmentFile');
    assert.equal(fresh.atticd.environmentFile, '/run/secrets/attic-env');
    assert.equal('credentialsFile' in fresh.atticd, false);
    // attic's module before 2024-10-14 knows only credentialsFile.
    const old = await evalWith('credentialsFile');
    assert.equal(old.atticd.credentialsFile, '/run/secrets/attic-env');
    assert.equal('environmentFile' in old.atticd, false);
    // attic 2023-11..2024-10 needs a [jwt] table; an empty one works with every release.
    assert.deepEqual(fresh.atticd.settings.jwt, {});
    assert.deepEqual(fresh.ca, [pem.trimEnd() + '\n'], 'the CA file next to attic.nix is in the system trust store');
  });

  it('cache create --json: netrc names the substituter host, attic\'s name rule applies', async () => {
    const signing = signingKeyFromPem(await decrypt('attic/cache1/token-rs256-key'));
    // atticd answers a substituter endpoint on another host name than the API URL we call.
    attic = await startAtticFake(publicKeyPem(signing), { substituterBase: 'http://localhost:1/' });
    const r = await cli(['cache', 'create', 'team+main', '--server-url', attic.url, '--host', 'web1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(j.name, 'team+main');
    assert.equal(j.created, true);
    assert.equal(j.substituterEndpoint, 'http://localhost:1/team+main');
    assert.deepEqual(j.hosts, ['web1']);
    assert.deepEqual(j.files, ['hosts/web1/cache.nix']);
    assert.equal(j.netrcRefs.web1, 'local:secrets/bootstrap/hosts/web1/attic-netrc.age');
    const pull = await decrypt('attic/cache1/pull-token');
    assert.equal(await decrypt('hosts/web1/attic-netrc'), `machine localhost\npassword ${pull}\n`, 'the substituter\'s host, not the API URL\'s 127.0.0.1');
    assert.ok(!r.stdout.includes(pull) && !r.stderr.includes(pull), 'the pull token is not printed');

    // "my.cache" was accepted before and then refused by atticd: now refused here, before any call.
    const calls = attic.log.length;
    const bad = await cli(['cache', 'create', 'my.cache', '--server-url', attic.url, '--json']);
    assert.equal(bad.code, 2, bad.stderr);
    const doc = JSON.parse(bad.stdout) as { ok: boolean; error: { code: string; message: string; hint: string } };
    assert.equal(doc.ok, false);
    assert.equal(doc.error.code, 'bad-cache-name');
    assert.match(doc.error.hint, /"\+"/);
    assert.equal(attic.log.length, calls, 'atticd was not asked');
  });

  it('backup setup --json: repository, real restic init through the CA, backup.nix trusts the CA', async () => {
    const r = await cli(['backup', 'setup', 'web1', '--nixpkgs-release', '24.11', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, SDK_NOTICE);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(j.host, 'web1');
    assert.equal(j.storage, 'minio');
    assert.equal(j.repository, `s3:${s3.endpoint}/fleet-store/restic/web1`);
    assert.equal(j.release, '24.11');
    assert.equal(j.releaseSource, '--nixpkgs-release');
    assert.deepEqual(j.paths, ['/srv']);
    assert.equal(j.init, 'created');
    assert.equal(j.bucketStatus, 'exists');
    assert.deepEqual(j.files, ['hosts/web1/backup.nix', 'hosts/web1/storage-ca-minio.pem']);
    assert.deepEqual(j.hostSecrets, { mode: 'sops', names: ['restic-password', 'restic-env'] });
    assert.deepEqual(Object.keys(j.secretRefs).sort(), ['env', 'password']);

    const backupNix = await readFile(join(flake, 'hosts/web1/backup.nix'), 'utf8');
    const pem = await readFile(s3.certFile!, 'utf8');
    const m = await withNixFiles({ 'backup.nix': backupNix, 'storage-ca-minio.pem': pem }, (dir) => evalExprJson(
      `let m = import ${join(dir, 'backup.nix')} { config = { sops.secrets."restic-password".path = "/p"; sops.secrets."restic-env".path = "/e"; }; }; in ` +
      `{ repo = m.services.restic.backups.bootstrap.repository; ca = map builtins.readFile m.security.pki.certificateFiles; }`,
    )) as { repo: string; ca: string[] };
    assert.equal(m.repo, j.repository);
    assert.deepEqual(m.ca, [pem.trimEnd() + '\n']);

    // A second run: the repository exists.
    const again = JSON.parse((await cli(['backup', 'setup', 'web1', '--nixpkgs-release', '24.11', '--json'])).stdout) as Record<string, any>;
    assert.equal(again.init, 'exists');
  });

  it('no secret value reached any output', async () => {
    const values = [SECRET];
    for (const n of ['attic/cache1/admin-token', 'attic/cache1/push-token', 'attic/cache1/pull-token', 'hosts/web1/restic-password']) values.push((await decrypt(n)).trim());
    for (const r of outputs) {
      for (const v of values) assert.ok(!r.stdout.includes(v) && !r.stderr.includes(v), `a secret (${v.slice(0, 4)}…) was printed`);
    }
  });
});

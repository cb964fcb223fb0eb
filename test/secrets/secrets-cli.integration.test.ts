/**
 * `bootstrap secrets set|list` through the real CLI (issue 11), with the local age vault opened by
 * the real `age`, and a storage command (`cache setup` against s3rver) that then reads the S3 keys
 * from exactly where `secrets set` put them. Values never come from argv or reach the output.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startS3rver, type LocalS3 } from '../helpers/s3.js';
import { makeTempDir } from '../helpers/tmp.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

// s3rver checks the key id (S3RVER) but not signatures, so a distinctive secret works and is easy to scan for.
const SECRET = 'leakcanary-s3-secret-7d41e0';

describe('secrets set / list', () => {
  let s3: LocalS3;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let flake: string;
  let admin: string;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) => runCli([...args, '--flake', flake], { env, cwd: tmp.dir, ...(input !== undefined ? { input } : {}) });
  const decrypt = async (name: string) => (await runCommand(['age', '-d', '-i', admin, join(flake, 'secrets/bootstrap', `${name}.age`)])).stdout;
  const outputs: CliResult[] = [];

  before(async () => {
    s3 = await startS3rver();
    tmp = await makeTempDir('nb-secrets-');
    flake = join(tmp.dir, 'flake');
    await mkdir(flake, { recursive: true });
    admin = join(tmp.dir, 'admin.txt');
    await runCommand(['age-keygen', '-o', admin]);
    const recipient = (await runCommand(['age-keygen', '-y', admin])).stdout.trim();
    await writeFile(join(flake, 'bootstrap.toml'), [
      '[secrets.local]', `recipients = ["${recipient}"]`,
      '[storage.s3l]', 'provider = "custom"', `endpoint = "${s3.endpoint}"`, 'bucket = "fleet-cache"', 'region = "us-east-1"',
      '[cache]', 'server = "cache1"', 'url = "https://cache.example.org/"',
    ].join('\n'));
    env = { BOOTSTRAP_AGE_IDENTITY: admin, HOME: join(tmp.dir, 'home'), OP_SERVICE_ACCOUNT_TOKEN: '' };
  });
  after(async () => {
    for (const r of outputs) {
      assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), 'the secret never reaches the output');
      assert.ok(!r.stdout.includes('argv-secret-value') && !r.stderr.includes('argv-secret-value'));
    }
    await s3?.close();
    await tmp?.cleanup();
  });

  it('a storage command names `bootstrap secrets set` with the exact names it reads, then reads what it stored', async () => {
    const missing = await cli(['cache', 'setup', '--create-bucket', '--set-lifecycle']);
    outputs.push(missing);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /storage\/s3l\/access-key-id is not in the secret store/);
    assert.match(missing.stderr, /`bootstrap secrets set storage\/s3l\/access-key-id` and `bootstrap secrets set storage\/s3l\/secret-access-key`/);

    const id = await cli(['secrets', 'set', 'storage/s3l/access-key-id'], 'S3RVER\n');
    outputs.push(id);
    assert.equal(id.code, 0, id.stderr);
    assert.match(id.stderr, /stored local:secrets\/bootstrap\/storage\/s3l\/access-key-id\.age \(6 bytes\): the access key id of \[storage\.s3l\]/);
    const key = await cli(['secrets', 'set', 'storage/s3l/secret-access-key', '--json'], SECRET);
    outputs.push(key);
    assert.equal(key.code, 0, key.stderr);
    assert.deepEqual(JSON.parse(key.stdout), {
      name: 'storage/s3l/secret-access-key', ref: 'local:secrets/bootstrap/storage/s3l/secret-access-key.age', action: 'stored', bytes: SECRET.length,
      readBy: 'the secret access key of [storage.s3l]',
    });

    const setup = await cli(['cache', 'setup', '--create-bucket', '--set-lifecycle']);
    outputs.push(setup);
    assert.equal(setup.code, 0, setup.stderr);
    // atticd's environment, made from the store's S3 keys: exactly the values given.
    const atticEnv = await decrypt('hosts/cache1/attic-env');
    assert.ok(atticEnv.includes(`AWS_ACCESS_KEY_ID=S3RVER\n`), atticEnv.replace(SECRET, '…'));
    assert.ok(atticEnv.includes(`AWS_SECRET_ACCESS_KEY=${SECRET}\n`));
  });

  it('stores exactly the bytes given minus one trailing newline; list prints names only', async () => {
    const value = ' two words\tand a tab\n\n';
    const r = await cli(['secrets', 'set', 'hosts/web1/restic-password'], value);
    outputs.push(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await decrypt('hosts/web1/restic-password'), ' two words\tand a tab\n', 'one newline dropped, the rest kept');
    assert.match(r.stderr, /restic repository password/);

    const crlf = await cli(['secrets', 'set', 'apps/api-token'], 'tok-123456\r\n');
    assert.equal(crlf.code, 0, crlf.stderr);
    assert.equal(await decrypt('apps/api-token'), 'tok-123456');

    const list = await cli(['secrets', 'list']);
    outputs.push(list);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n'), [
      'apps/api-token', 'attic/cache1/admin-token', 'attic/cache1/pull-token', 'attic/cache1/push-token', 'attic/cache1/token-rs256-key',
      'hosts/cache1/attic-env', 'hosts/web1/restic-password', 'storage/s3l/access-key-id', 'storage/s3l/secret-access-key',
    ]);
  });

  it('refuses argv values, empty values, bad and host-key names, and a different value without --force: exit 2, nothing written', async () => {
    const before = snapshotTree(flake);
    const cases: [string[], string | undefined, RegExp][] = [
      [['secrets', 'set', 'storage/s3l/other', 'argv-secret-value'], 'x', /never as an argument/],
      [['secrets', 'set', 'storage/s3l/other'], '', /the secret value is empty/],
      [['secrets', 'set', 'storage/s3l/other'], '\n', /the secret value is empty/],
      [['secrets', 'set', 'storage/s3l/other'], '   \n', /the secret value is empty/],
      [['secrets', 'set', '../outside'], 'v', /secret name "\.\.\/outside" is not a store name/],
      [['secrets', 'set', 'storage/a..b'], 'v', /is not a store name/],
      [['secrets', 'set', '/abs/name'], 'v', /is not a store name/],
      [['secrets', 'set', 'storage//x'], 'v', /is not a store name/],
      [['secrets', 'set', 'hosts/web1/ssh_host_ed25519_key'], 'v', /is a host key; `bootstrap keys import` stores it/],
      [['secrets', 'set', 'shared/admin-age'], 'v', /is a host key/],
      [['secrets', 'set', 'storage/s3l/secret-access-key'], 'different-value', /already holds a different value in the local secret store; --force replaces it/],
      [['secrets', 'set'], 'v', /missing NAME/],
    ];
    for (const [args, input, pattern] of cases) {
      const r = await cli(args, input);
      outputs.push(r);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, '');
      assert.deepEqual(snapshotTree(flake), before, `${args.join(' ')} wrote nothing`);
    }
    // The same value again is fine and changes nothing; --force replaces.
    const same = await cli(['secrets', 'set', 'storage/s3l/secret-access-key'], `${SECRET}\n`);
    outputs.push(same);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /unchanged/);
    assert.deepEqual(snapshotTree(flake), before);
    const forced = await cli(['secrets', 'set', 'apps/api-token', '--force'], 'tok-new-654321');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /replaced local:secrets\/bootstrap\/apps\/api-token\.age/);
    assert.equal(await decrypt('apps/api-token'), 'tok-new-654321');
    // The refused argv value is not in the help either: VALUE is not an advertised argument.
    const help = await runCli(['secrets', 'set', '--help']);
    assert.match(help.stdout, /^Usage: bootstrap secrets set NAME \[options\]/);
    assert.ok(!/\bVALUE\b/.test(help.stdout));
  });
});

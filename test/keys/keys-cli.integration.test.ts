/**
 * `bootstrap keys ensure|show` end to end through the real CLI, with the local age vault, the real
 * age and ssh-keygen CLIs, and a FAKE `sops` on PATH (sops is not installed here) that records its
 * argv. Includes the leak scan and the bad-input cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { buildAgeIdentityFromSsh } from '../../src/keys/age-key.js';
import { parseOpenSshPrivateKey } from '../../src/keys/ssh-key.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

const SOPS_YAML = `# admins first, then hosts
keys:
  - &admin age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u # placeholder, replaced below
creation_rules:
  # per-host secrets
  - path_regex: hosts/web1/secrets\\.yaml$
    key_groups:
      - age:
          - *admin
  - path_regex: secrets/common\\.yaml$ # shared
    key_groups:
      - age:
          - *admin
`;

interface Flake {
  dir: string;
  env: Record<string, string>;
  admin: string;
  sopsLog: string;
}

async function makeFlake(dir: string, store = 'local'): Promise<Flake> {
  const flake = join(dir, 'flake');
  await mkdir(join(flake, 'hosts/web1'), { recursive: true });
  const admin = join(dir, 'admin.txt');
  await runCommand(['age-keygen', '-o', admin]);
  const recipient = (await runCommand(['age-keygen', '-y', admin])).stdout.trim();
  const toml = store === 'local' ? `[secrets.local]\nrecipients = ["${recipient}"]\n` : `[secrets]\nstore = "onepassword"\n[secrets.onepassword]\nvault = "Infra"\n`;
  await writeFile(join(flake, 'bootstrap.toml'), toml);
  await writeFile(join(flake, '.sops.yaml'), SOPS_YAML.replace(/age1zpaa\S+/, recipient));
  await writeFile(join(flake, 'hosts/web1/secrets.yaml'), 'db: ENC[AES256_GCM,data:xx]\nsops:\n    age: []\n');
  // FAKE sops: records argv and cwd, exits 0.
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const sopsLog = join(dir, 'sops.log');
  await writeFile(join(bin, 'sops'), `#!/bin/sh\necho "$PWD $*" >> '${sopsLog}'\n`);
  await chmod(join(bin, 'sops'), 0o755);
  return { dir: flake, admin, sopsLog, env: { BOOTSTRAP_AGE_IDENTITY: admin, PATH: `${bin}:${process.env.PATH}`, HOME: join(dir, 'home'), OP_SERVICE_ACCOUNT_TOKEN: '' } };
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[`${p.slice(dir.length)}/`] = '(directory)'; // an empty directory is a change too
        await walk(p);
      } else out[p.slice(dir.length)] = await readFile(p, 'utf8');
    }
  };
  await walk(dir);
  return out;
}

function assertOneLineError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('error:')).length, 1, r.stderr);
  assert.ok(lines.length <= 2, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
}

test('keys ensure + keys show: a key ssh-keygen accepts, a recipient age accepts, .sops.yaml keeps its comments', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    const ensure = await runCli(['keys', 'ensure', 'web1', '--luks', '--flake', f.dir], { env: f.env });
    assert.equal(ensure.code, 0, ensure.stderr);
    const show = await runCli(['keys', 'show', 'web1', '--json', '--flake', f.dir], { env: f.env });
    assert.equal(show.code, 0, show.stderr);
    const pub = JSON.parse(show.stdout);
    assert.deepEqual(Object.keys(pub), ['host', 'ssh', 'age']);
    assert.deepEqual(Object.keys(pub.ssh), ['publicKey', 'fingerprint', 'ref']);
    assert.equal(pub.ssh.ref, 'local:secrets/bootstrap/hosts/web1/ssh_host_ed25519_key.age');

    // The vault file opens with the age CLI and holds a key ssh-keygen reads.
    const vaultFile = join(f.dir, 'secrets/bootstrap/hosts/web1/ssh_host_ed25519_key.age');
    const keyFile = join(tmp, 'host_key');
    await runCommand(['age', '-d', '-i', f.admin, '-o', keyFile, vaultFile]);
    await chmod(keyFile, 0o600);
    assert.equal((await runCommand(['ssh-keygen', '-y', '-f', keyFile])).stdout.trim(), pub.ssh.publicKey);
    assert.equal((await runCommand(['ssh-keygen', '-l', '-f', keyFile])).stdout.split(' ')[1], pub.ssh.fingerprint);
    await writeFile(join(tmp, 'p'), 'x');
    await runCommand(['age', '-r', pub.age.recipient, '-o', join(tmp, 'p.age'), join(tmp, 'p')]);

    const sops = await readFile(join(f.dir, '.sops.yaml'), 'utf8');
    assert.match(sops, /^# admins first, then hosts\n/);
    assert.ok(sops.includes(`  - &host_web1 ${pub.age.recipient}\n`));
    assert.ok(sops.includes('          - *admin\n          - *host_web1\n  - path_regex: secrets/common\\.yaml$ # shared\n'));
    assert.equal((sops.match(/\*host_web1/g) ?? []).length, 1);
    const sopsCalls = (await readFile(f.sopsLog, 'utf8')).split('\n').filter((l) => l.includes('updatekeys'));
    assert.deepEqual(sopsCalls, [`${f.dir} updatekeys -y hosts/web1/secrets.yaml`]);

    // Second run: everything reused, nothing changes on disk.
    const before = await tree(f.dir);
    const again = await runCli(['keys', 'ensure', 'web1', '--json', '--flake', f.dir], { env: f.env });
    assert.equal(again.code, 0, again.stderr);
    const j = JSON.parse(again.stdout);
    assert.deepEqual(j.actions.map((a: { action: string }) => a.action), ['reuse', 'reuse']);
    assert.deepEqual(j.files, []);
    assert.deepEqual(await tree(f.dir), before);

    // Leak scan: every private value, its base64 and its lines, in every output and .bootstrap/ file.
    const priv = await readFile(keyFile, 'utf8');
    const parsed = parseOpenSshPrivateKey(priv);
    const luks = (await runCommand(['age', '-d', '-i', f.admin, join(f.dir, 'secrets/bootstrap/hosts/web1/luks_passphrase.age')])).stdout;
    const adminKey = (await readFile(f.admin, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY'))!;
    const secrets = [priv, Buffer.from(priv).toString('base64'), ...priv.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')), buildAgeIdentityFromSsh(parsed.seed), Buffer.from(parsed.seed).toString('base64'), luks, adminKey];
    const state = await tree(join(f.dir, '.bootstrap')).catch(() => ({}));
    const outputs = [ensure.stdout, ensure.stderr, show.stdout, show.stderr, again.stdout, again.stderr, ...Object.values(state)];
    for (const s of secrets) for (const o of outputs) assert.ok(!o.includes(s), 'a private value leaked');
    assert.ok(luks.length >= 30);
  });
});

test('dry run changes nothing', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    const before = await tree(f.dir);
    const r = await runCli(['keys', 'ensure', 'web1', '--dry-run', '--json', '--flake', f.dir], { env: f.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).files, ['.sops.yaml']);
    assert.deepEqual(await tree(f.dir), before);
  });
});

test('bad input: unknown host, wrong identity, corrupted vault file, missing token — one line, nothing written', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    assertOneLineError(await runCli(['keys', 'show', 'web9', '--flake', f.dir], { env: f.env }), 2, /no keys for host web9/);
    assertOneLineError(await runCli(['keys', 'show', 'bad_name!', '--flake', f.dir], { env: f.env }), 2, /not a valid host name/);

    assert.equal((await runCli(['keys', 'ensure', 'web1', '--flake', f.dir], { env: f.env })).code, 0);
    const before = await tree(f.dir);
    const other = join(tmp, 'other.txt');
    await runCommand(['age-keygen', '-o', other]);
    const wrong = await runCli(['keys', 'ensure', 'web1', '--flake', f.dir], { env: { ...f.env, BOOTSTRAP_AGE_IDENTITY: other } });
    assertOneLineError(wrong, 2, /cannot decrypt secrets\/bootstrap\/hosts\/web1\/ssh_host_ed25519_key\.age: the identity in .*other\.txt is not one of its recipients/);
    assert.deepEqual(await tree(f.dir), before);

    const vaultFile = join(f.dir, 'secrets/bootstrap/hosts/web1/ssh_host_ed25519_key.age');
    const text = await readFile(vaultFile, 'utf8');
    await writeFile(vaultFile, text.replace(/\n(.)(.)/, (_m, a: string, b: string) => `\n${b}${a}`));
    const snapshot = await tree(f.dir);
    const corrupt = await runCli(['keys', 'ensure', 'web1', '--flake', f.dir], { env: f.env });
    assertOneLineError(corrupt, 1, /cannot decrypt secrets\/bootstrap\/hosts\/web1\/ssh_host_ed25519_key\.age/);
    assert.deepEqual(await tree(f.dir), snapshot);
    assert.ok((await stat(vaultFile)).size > 0);
  });
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp, 'onepassword');
    const before = await tree(f.dir);
    assertOneLineError(await runCli(['keys', 'ensure', 'web1', '--flake', f.dir], { env: f.env }), 2, /OP_SERVICE_ACCOUNT_TOKEN is not set/);
    assert.deepEqual(await tree(f.dir), before);
  });
});

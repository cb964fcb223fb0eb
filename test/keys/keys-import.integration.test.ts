/**
 * `bootstrap keys import` end to end through the real CLI (issue 11): keys made by the real
 * ssh-keygen and age-keygen, the local age vault opened with the real `age`, a FAKE `sops` on PATH
 * that records its argv. Covers reuse by `keys ensure`, the --force refusal, malformed input
 * leaving the flake byte-identical, stdin, and that no key material reaches stdout or stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { buildAgeIdentityFromSsh, buildAgeRecipientFromSsh } from '../../src/keys/age-key.js';
import { parseOpenSshPrivateKey } from '../../src/keys/ssh-key.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

interface Flake {
  dir: string;
  env: Record<string, string>;
  admin: string;
  tmp: string;
}

async function makeFlake(tmp: string, sopsToml = ''): Promise<Flake> {
  const flake = join(tmp, 'flake');
  await mkdir(join(flake, 'hosts/web1'), { recursive: true });
  const admin = join(tmp, 'admin.txt');
  await runCommand(['age-keygen', '-o', admin]);
  const recipient = (await runCommand(['age-keygen', '-y', admin])).stdout.trim();
  await writeFile(join(flake, 'bootstrap.toml'), `[secrets.local]\nrecipients = ["${recipient}"]\n${sopsToml}`);
  await writeFile(
    join(flake, '.sops.yaml'),
    `keys:\n  - &admin ${recipient} # the admins\ncreation_rules:\n  - path_regex: hosts/web1/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n`,
  );
  await writeFile(join(flake, 'hosts/web1/secrets.yaml'), 'db: ENC[AES256_GCM,data:xx]\nsops:\n    age: []\n');
  const bin = join(tmp, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'sops'), `#!/bin/sh\necho "$*" >> '${join(tmp, 'sops.log')}'\n`);
  await chmod(join(bin, 'sops'), 0o755);
  return { dir: flake, admin, tmp, env: { BOOTSTRAP_AGE_IDENTITY: admin, PATH: `${bin}:${process.env.PATH}`, HOME: join(tmp, 'home'), OP_SERVICE_ACCOUNT_TOKEN: '' } };
}

/** An ed25519 key made by the real ssh-keygen; returns its path, text and `ssh-keygen -lf` fingerprint. */
async function sshKeygen(dir: string, name: string, extra: string[] = ['-N', '']): Promise<{ path: string; text: string; fingerprint: string }> {
  const path = join(dir, name);
  await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', ...extra, '-C', `root@${name}`, '-f', path]);
  const fingerprint = (await runCommand(['ssh-keygen', '-lf', `${path}.pub`])).stdout.split(' ')[1]!;
  return { path, text: await readFile(path, 'utf8'), fingerprint };
}

/** Every secret form of an SSH key: the file, its base64 body lines, the derived age identity. */
function secretFormsOfSsh(text: string): string[] {
  const pair = parseOpenSshPrivateKey(text);
  const lines = text.split('\n').filter((l) => l && !l.startsWith('-----'));
  return [...lines, buildAgeIdentityFromSsh(pair.seed), Buffer.from(pair.seed).toString('base64'), Buffer.from(pair.seed).toString('hex')];
}

function assertNoLeak(runs: CliResult[], secrets: string[]): void {
  for (const r of runs) for (const s of secrets) {
    assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `secret material leaked: ${s.slice(0, 12)}…`);
  }
}

function assertOneLineError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('error:')).length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
}

const cli = (f: Flake, args: string[], input?: string) => runCli([...args, '--flake', f.dir], { env: f.env, cwd: f.tmp, ...(input !== undefined ? { input } : {}) });

test('keys import --ssh-key: keys show prints its fingerprint, the vault holds it, .sops.yaml gets its recipient, keys ensure keeps it', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    const key = await sshKeygen(tmp, 'web1');
    const runs: CliResult[] = [];

    // --dry-run says what it would do and writes nothing.
    const pristine = snapshotTree(f.dir);
    const dry = await cli(f, ['keys', 'import', 'web1', '--ssh-key', key.path, '--dry-run']);
    runs.push(dry);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /would import local:.*\n.*would update \.sops\.yaml/);
    assert.deepEqual(snapshotTree(f.dir), pristine);

    const imp = await cli(f, ['keys', 'import', 'web1', '--ssh-key', key.path]);
    runs.push(imp);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, new RegExp(`fingerprint\\s+${key.fingerprint.replace(/[+/]/g, '\\$&')}`));
    assert.match(imp.stderr, /imported local:secrets\/bootstrap\/hosts\/web1\/ssh_host_ed25519_key\.age/);

    const show = await cli(f, ['keys', 'show', 'web1', '--json']);
    runs.push(show);
    assert.equal(show.code, 0, show.stderr);
    const shown = JSON.parse(show.stdout) as { ssh: { fingerprint: string; publicKey: string }; age: { recipient: string } };
    assert.equal(shown.ssh.fingerprint, key.fingerprint);
    const recipient = buildAgeRecipientFromSsh(parseOpenSshPrivateKey(key.text).publicRaw);
    assert.equal(shown.age.recipient, recipient, 'the ssh-to-age recipient, as for generated keys');

    // The vault file opens with the real age CLI and holds exactly the key ssh-keygen wrote.
    const vaultFile = join(f.dir, 'secrets/bootstrap/hosts/web1/ssh_host_ed25519_key.age');
    const decrypted = (await runCommand(['age', '-d', '-i', f.admin, vaultFile])).stdout;
    assert.equal(decrypted, key.text);
    assert.equal((await readFile(vaultFile.replace(/\.age$/, '.pub'), 'utf8')).trim(), shown.ssh.publicKey);

    // Registered like keys ensure: an anchor and the alias in the host's rule, comments kept; sops updatekeys ran.
    const sops = await readFile(join(f.dir, '.sops.yaml'), 'utf8');
    assert.match(sops, new RegExp(`- &host_web1 ${recipient}\\n`));
    assert.match(sops, /# the admins/);
    assert.match(sops, /- \*admin\n {10}- \*host_web1\n/);
    assert.match(await readFile(join(tmp, 'sops.log'), 'utf8'), /updatekeys -y hosts\/web1\/secrets\.yaml/);

    // keys ensure afterwards reuses the imported key.
    const ensure = await cli(f, ['keys', 'ensure', 'web1', '--json']);
    runs.push(ensure);
    assert.equal(ensure.code, 0, ensure.stderr);
    const ens = JSON.parse(ensure.stdout) as { ssh: { fingerprint: string }; actions: { name: string; action: string }[] };
    assert.equal(ens.ssh.fingerprint, key.fingerprint);
    assert.deepEqual(ens.actions.map((a) => a.action), ['reuse']);
    assert.equal((await runCommand(['age', '-d', '-i', f.admin, vaultFile])).stdout, key.text);

    // Importing the same key again changes nothing.
    const before = snapshotTree(f.dir);
    const again = await cli(f, ['keys', 'import', 'web1', '--ssh-key', key.path]);
    runs.push(again);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already holds/);
    assert.deepEqual(snapshotTree(f.dir), before);

    assertNoLeak(runs, secretFormsOfSsh(key.text));
  });
});

test('keys import refuses a different key without --force (nothing written); --force replaces it and re-registers', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    const first = await sshKeygen(tmp, 'old');
    const second = await sshKeygen(tmp, 'new');
    assert.equal((await cli(f, ['keys', 'import', 'web1', '--ssh-key', first.path])).code, 0);
    const before = snapshotTree(f.dir);

    const refused = await cli(f, ['keys', 'import', 'web1', '--ssh-key', second.path]);
    assertOneLineError(refused, /^error: hosts\/web1\/ssh_host_ed25519_key already holds a different SSH host key \(SHA256:.*\); --force replaces it, and secrets encrypted to the old key's age recipient must then be re-encrypted/);
    assert.ok(refused.stderr.includes(first.fingerprint), 'names the stored key by fingerprint');
    assert.deepEqual(snapshotTree(f.dir), before, 'a refused import changes nothing');

    const forced = await cli(f, ['keys', 'import', 'web1', '--ssh-key', second.path, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /replaced local:/);
    const show = JSON.parse((await cli(f, ['keys', 'show', 'web1', '--json'])).stdout) as { ssh: { fingerprint: string } };
    assert.equal(show.ssh.fingerprint, second.fingerprint);
    const newRecipient = buildAgeRecipientFromSsh(parseOpenSshPrivateKey(second.text).publicRaw);
    const sops = await readFile(join(f.dir, '.sops.yaml'), 'utf8');
    assert.match(sops, new RegExp(`- &host_web1 ${newRecipient}\\n`), 'the same anchor now holds the new recipient');
    assert.equal(sops.match(/&host_web1/g)!.length, 1);
    assertNoLeak([refused, forced], [...secretFormsOfSsh(first.text), ...secretFormsOfSsh(second.text)]);
  });
});

test('keys import: malformed keys, key material in argv and a missing HOST are exit 2 with the flake byte-identical', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    const good = await sshKeygen(tmp, 'good');
    const locked = await sshKeygen(tmp, 'locked', ['-N', 'hunter2-passphrase']);
    await writeFile(join(tmp, 'garbage'), 'this is not a key\n');
    await writeFile(join(tmp, 'truncated'), good.text.split('\n').slice(0, 3).join('\n') + '\n-----END OPENSSH PRIVATE KEY-----\n');
    await writeFile(join(tmp, 'two-ages'), 'AGE-SECRET-KEY-1AAAA\nAGE-SECRET-KEY-1BBBB\n');
    await writeFile(join(tmp, 'bad-age'), '# created: now\nAGE-SECRET-KEY-1NOTBECH32\n');
    const rsa = join(tmp, 'rsa');
    await runCommand(['ssh-keygen', '-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsa]);
    const ageId = join(tmp, 'age.txt');
    await runCommand(['age-keygen', '-o', ageId]);
    const ageSecret = (await readFile(ageId, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
    const before = snapshotTree(f.dir);

    const cases: [string[], RegExp, string?][] = [
      [['keys', 'import', 'web1', '--ssh-key', join(tmp, 'garbage')], /is not a usable OpenSSH ed25519 private key \(no OPENSSH PRIVATE KEY armour\)/],
      [['keys', 'import', 'web1', '--ssh-key', join(tmp, 'truncated')], /is not a usable OpenSSH ed25519 private key/],
      [['keys', 'import', 'web1', '--ssh-key', locked.path], /passphrase-protected/],
      [['keys', 'import', 'web1', '--ssh-key', rsa], /key type ssh-rsa/],
      [['keys', 'import', 'web1', '--ssh-key', `${good.path}.pub`], /no OPENSSH PRIVATE KEY armour/],
      [['keys', 'import', 'web1', '--ssh-key', join(tmp, 'missing')], /--ssh-key: cannot read .*missing \(ENOENT\)/],
      [['keys', 'import', 'web1', '--age-key', join(tmp, 'two-ages')], /holds 2 lines besides comments/],
      [['keys', 'import', 'web1', '--age-key', join(tmp, 'bad-age')], /malformed age identity/],
      [['keys', 'import', 'web1', '--age-key', ageSecret], /--age-key takes a file path or "-" \(stdin\), not the key itself/],
      [['keys', 'import', '--ssh-key', good.path], /missing HOST/],
      [['keys', 'import', 'web1'], /nothing to import/],
      [['keys', 'import', 'web1', '--ssh-key', '-', '--age-key', '-'], /only one flag can read from stdin/, good.text],
      [['keys', 'import', 'web1', '--ssh-key', '-'], /stdin is empty/, ''],
    ];
    const runs: CliResult[] = [];
    for (const [args, pattern, input] of cases) {
      const r = await cli(f, args, input);
      runs.push(r);
      assertOneLineError(r, pattern);
      assert.deepEqual(snapshotTree(f.dir), before, `${args.join(' ')} wrote nothing`);
    }
    assertNoLeak(runs, [...secretFormsOfSsh(good.text), ageSecret]);
  });
});

test('keys import --ssh-key - reads stdin; --age-key becomes the host separate key, registered as host_web1_age', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp, '[sops]\nseparateKeyPath = "/var/lib/sops-nix/admin-key.txt"\n');
    const key = await sshKeygen(tmp, 'web1');
    const ageFile = join(tmp, 'age.txt');
    await runCommand(['age-keygen', '-o', ageFile]);
    const ageRecipient = (await runCommand(['age-keygen', '-y', ageFile])).stdout.trim();
    const ageSecret = (await readFile(ageFile, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;

    const r = await cli(f, ['keys', 'import', 'web1', '--ssh-key', '-', '--age-key', ageFile, '--json'], key.text);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { keys: { kind: string; action: string; name: string; recipient?: string; fingerprint?: string }[] };
    assert.deepEqual(out.keys.map((k) => [k.kind, k.name, k.action]), [['ssh', 'hosts/web1/ssh_host_ed25519_key', 'import'], ['age', 'hosts/web1/age_key', 'import']]);
    assert.equal(out.keys[0]!.fingerprint, key.fingerprint);
    assert.equal(out.keys[1]!.recipient, ageRecipient);
    assert.equal((await runCommand(['age', '-d', '-i', f.admin, join(f.dir, 'secrets/bootstrap/hosts/web1/age_key.age')])).stdout, ageSecret);
    assert.match(await readFile(join(f.dir, '.sops.yaml'), 'utf8'), new RegExp(`- &host_web1_age ${ageRecipient}\\n`));

    const ensure = JSON.parse((await cli(f, ['keys', 'ensure', 'web1', '--json'])).stdout) as { age: { separateRecipient: string }; actions: { action: string }[] };
    assert.equal(ensure.age.separateRecipient, ageRecipient, 'keys ensure reuses the imported age identity');
    assert.deepEqual(ensure.actions.map((a) => a.action), ['reuse', 'reuse']);
    assertNoLeak([r], [...secretFormsOfSsh(key.text), ageSecret]);
  });
});

test('a shared admin age key: imported once, one &admin_shared anchor, every host ensures the same key', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp, '[sops]\nseparateKeyPath = "/var/lib/sops-nix/admin-key.txt"\nseparateKeyShared = true\n');
    await writeFile(join(f.dir, '.sops.yaml'), (await readFile(join(f.dir, '.sops.yaml'), 'utf8')) + '  - path_regex: hosts/web2/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n');
    const shared = join(tmp, 'fleet-admin.txt');
    await runCommand(['age-keygen', '-o', shared]);
    const sharedRecipient = (await runCommand(['age-keygen', '-y', shared])).stdout.trim();
    const sharedSecret = (await readFile(shared, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;

    const imp = await cli(f, ['keys', 'import', '--shared-admin-age', shared]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /imported local:secrets\/bootstrap\/shared\/admin-age\.age/);
    assert.equal((await runCommand(['age', '-d', '-i', f.admin, join(f.dir, 'secrets/bootstrap/shared/admin-age.age')])).stdout, sharedSecret);
    assert.match(await readFile(join(f.dir, '.sops.yaml'), 'utf8'), new RegExp(`- &admin_shared ${sharedRecipient}\\n`));

    const runs = [imp];
    for (const host of ['web1', 'web2']) {
      const r = await cli(f, ['keys', 'ensure', host, '--json']);
      runs.push(r);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { age: { separateRecipient: string; separateRef: string } };
      assert.equal(out.age.separateRecipient, sharedRecipient);
      assert.equal(out.age.separateRef, 'local:secrets/bootstrap/shared/admin-age.age');
    }
    const sops = await readFile(join(f.dir, '.sops.yaml'), 'utf8');
    assert.equal(sops.match(/&admin_shared/g)!.length, 1, 'listed once, not per host');
    assert.equal(sops.match(/\*admin_shared/g)!.length, 2, "aliased in each host's rule");
    assert.ok(!sops.includes('host_web1_age') && !sops.includes('host_web2_age'));
    // No per-host separate key was made.
    assert.deepEqual((await cli(f, ['secrets', 'list', '--json'])).stdout.includes('age_key'), false);

    // --rotate replaces the host's SSH key but never the fleet's key.
    const rot = JSON.parse((await cli(f, ['keys', 'ensure', 'web1', '--rotate', '--json'])).stdout) as { age: { separateRecipient: string } };
    assert.equal(rot.age.separateRecipient, sharedRecipient);
    // A different shared key is refused without --force.
    const other = join(tmp, 'other.txt');
    await runCommand(['age-keygen', '-o', other]);
    const before = snapshotTree(f.dir);
    const refused = await cli(f, ['keys', 'import', '--shared-admin-age', other]);
    assertOneLineError(refused, /^error: shared\/admin-age already holds a different shared admin age key \(age1.*\); --force replaces it/);
    assert.deepEqual(snapshotTree(f.dir), before);
    assertNoLeak([...runs, refused], [sharedSecret]);
  });
});

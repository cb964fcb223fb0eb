/**
 * runRegisterRecipients on a flake on disk: sops missing → the exact commands to run; agenix mode
 * edits secrets.nix (and it still parses with nix-instantiate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedConfig } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { failure } from '../../src/errors.js';
import type { Runner } from '../../src/exec/run.js';
import { runRegisterRecipients } from '../../src/recipients/register.js';
import { withTempDir } from '../helpers/tmp.js';

const R = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHwCmaXGGnQvm1sBuw6E9nhf8FG8ftnMHUxFFq3IhQOM root@web1';

function loaded(dir: string, raw: unknown): LoadedConfig {
  return { flakeDir: dir, file: join(dir, 'bootstrap.toml'), exists: true, config: ConfigSchema.parse(raw) };
}

test('sops not installed: the exact updatekeys commands are returned, nothing is run', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, '.sops.yaml'), 'keys:\n  - &a age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz\ncreation_rules:\n  - path_regex: secrets/web1/.*\n    key_groups:\n      - age:\n          - *a\n');
    await mkdir(join(dir, 'secrets/web1'), { recursive: true });
    await writeFile(join(dir, 'secrets/web1/db.yaml'), 'x: ENC[y]\nsops:\n  age: []\n');
    await writeFile(join(dir, 'secrets/web1/notes.txt'), 'plain, not a sops file\n');
    const calls: string[][] = [];
    const run: Runner = async (argv) => {
      calls.push([...argv]);
      throw failure('missing-tool', 'sops was not found on PATH');
    };
    const ctx = { run, signal: new AbortController().signal };
    const report = await runRegisterRecipients(ctx, loaded(dir, {}), { host: 'web1', recipient: R, sshPublicKey: KEY }, false);
    assert.deepEqual(report.files, ['.sops.yaml']);
    assert.deepEqual(report.manual, [['sops', 'updatekeys', '-y', 'secrets/web1/db.yaml']]);
    assert.deepEqual(calls, [['sops', '--version']]);
    assert.match(await readFile(join(dir, '.sops.yaml'), 'utf8'), /- \*host_web1\n/);
  });
});

test('agenix mode edits secrets.nix in place', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'secrets'));
    const text = 'let\n  admin = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL0idNvgGiucWgup/mP78zyC23uFjYq0evcWdjGQUaBH";\n  systems = [ ];\nin {\n  "db.age".publicKeys = [ admin ] ++ systems;\n}\n';
    await writeFile(join(dir, 'secrets/secrets.nix'), text);
    const run: Runner = async () => {
      throw new Error('no commands expected');
    };
    const report = await runRegisterRecipients({ run, signal: new AbortController().signal }, loaded(dir, { sops: { mode: 'agenix' } }), { host: 'web1', recipient: R, sshPublicKey: KEY }, false);
    assert.deepEqual(report.files, ['secrets/secrets.nix']);
    const after = await readFile(join(dir, 'secrets/secrets.nix'), 'utf8');
    assert.match(after, /web1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHwCmaXGGnQvm1sBuw6E9nhf8FG8ftnMHUxFFq3IhQOM";\n  systems = \[ web1 \];/);
    assert.deepEqual(report.manual, [['agenix', '--rekey']]);
  });
});

test('a new .sops.yaml lists the operator\'s own sops key (SOPS_AGE_KEY_FILE) beside the host; without one, a note says so', async () => {
  const { execFileSync } = await import('node:child_process');
  const { readFile: read } = await import('node:fs/promises');
  await withTempDir(async (dir) => {
    const keyFile = join(dir, 'keys.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    const mine = execFileSync('age-keygen', ['-y', keyFile]).toString().trim();
    const run: Runner = async (argv) => ({ argv, code: 127, signal: null, stdout: '', stderr: '', durationMs: 0 });
    const report = await runRegisterRecipients({ run, signal: new AbortController().signal, env: { SOPS_AGE_KEY_FILE: keyFile } }, loaded(dir, {}), { host: 'web1', recipient: R, sshPublicKey: KEY }, false);
    const yaml = await read(join(dir, '.sops.yaml'), 'utf8');
    assert.match(yaml, new RegExp(`&admin_1 ${mine}`));
    assert.match(yaml, /- \*admin_1\n\s+- \*/);
    assert.deepEqual(report.notes.filter((n) => n.includes('lists only')), []);
  });
  await withTempDir(async (dir) => {
    const run: Runner = async (argv) => ({ argv, code: 127, signal: null, stdout: '', stderr: '', durationMs: 0 });
    const report = await runRegisterRecipients({ run, signal: new AbortController().signal, env: { HOME: dir } }, loaded(dir, {}), { host: 'web1', recipient: R, sshPublicKey: KEY }, false);
    assert.ok(report.notes.some((n) => /\.sops\.yaml is new and lists only web1: add your own age recipient/.test(n)), report.notes.join('\n'));
  });
});

test('issue 18: a new .sops.yaml honours [sops] rules (admins and the host in each); the next host joins them; a bad rule is refused before anything is written', async () => {
  const { checkRecipientFiles } = await import('../../src/recipients/register.js');
  const { execFileSync } = await import('node:child_process');
  const { existsSync } = await import('node:fs');
  const R2 = 'age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz';
  await withTempDir(async (dir) => {
    const keyFile = join(dir, 'keys.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    const mine = execFileSync('age-keygen', ['-y', keyFile]).toString().trim();
    const run: Runner = async (argv) => ({ argv, code: 127, signal: null, stdout: '', stderr: '', durationMs: 0 });
    const ctx = { run, signal: new AbortController().signal, env: { SOPS_AGE_KEY_FILE: keyFile } };
    const cfg = loaded(dir, { sops: { rules: ['secrets/common/.*', 'secrets/[^/]+\\.yaml$'] } });
    await runRegisterRecipients(ctx, cfg, { host: 'web1', recipient: R, sshPublicKey: KEY }, false);
    const yaml = await readFile(join(dir, '.sops.yaml'), 'utf8');
    const ruleOf = (text: string, regex: string) => new RegExp(`- path_regex: ${regex.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n    key_groups:\\n      - age:\\n((?:          - \\*\\w+\\n)+)`).exec(text)?.[1];
    for (const rule of ['hosts/web1/secrets\\.ya?ml$', 'secrets/common/.*', 'secrets/[^/]+\\.yaml$']) {
      assert.equal(ruleOf(yaml, rule), '          - *admin_1\n          - *host_web1\n', `${rule} in\n${yaml}`);
    }
    assert.match(yaml, new RegExp(`&admin_1 ${mine}`));
    // The next host joins the [sops] rules (and gets its own rule), the file stays sops-readable YAML.
    await runRegisterRecipients(ctx, cfg, { host: 'web2', recipient: R2, sshPublicKey: KEY }, false);
    const next = await readFile(join(dir, '.sops.yaml'), 'utf8');
    assert.equal(ruleOf(next, 'secrets/common/.*'), '          - *admin_1\n          - *host_web1\n          - *host_web2\n');
    assert.equal(ruleOf(next, 'hosts/web1/secrets\\.ya?ml$'), '          - *admin_1\n          - *host_web1\n', "web2 is not in web1's own rule");
  });
  await withTempDir(async (dir) => {
    const run: Runner = async (argv) => ({ argv, code: 127, signal: null, stdout: '', stderr: '', durationMs: 0 });
    const bad = loaded(dir, { sops: { rules: ['secrets/(common'] } });
    const refused = (e: unknown) => (e as { code?: string }).code === 'bad-sops-rule' && /\[sops\] rules in bootstrap\.toml: "secrets\/\(common" is not a regular expression/.test((e as Error).message);
    await assert.rejects(checkRecipientFiles({ run, signal: new AbortController().signal }, bad, 'web1'), refused);
    await assert.rejects(runRegisterRecipients({ run, signal: new AbortController().signal, env: { HOME: dir } }, bad, { host: 'web1', recipient: R, sshPublicKey: KEY }, false), refused);
    assert.equal(existsSync(join(dir, '.sops.yaml')), false, 'nothing written');
  });
});

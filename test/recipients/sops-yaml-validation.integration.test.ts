/**
 * `bootstrap keys ensure HOST` on a flake whose .sops.yaml (or agenix secrets.nix) is broken: the
 * real CLI, the local age vault and the real age CLI. Each broken shape is one usage error (exit
 * 2: the error line and its hint, no stack), and the flake tree is byte-identical afterwards:
 * same paths, contents and modes, so no key, vault file or .bootstrap/ directory was written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

interface Flake {
  dir: string;
  env: Record<string, string>;
  admin: string;
}

/** A flake with a local age vault ([secrets.local] recipients, BOOTSTRAP_AGE_IDENTITY) and no sops on PATH. */
async function makeFlake(tmp: string, toml = ''): Promise<Flake> {
  const dir = join(tmp, 'flake');
  await mkdir(join(dir, 'hosts/web1'), { recursive: true });
  const identity = join(tmp, 'admin.txt');
  await runCommand(['age-keygen', '-o', identity]);
  const admin = (await runCommand(['age-keygen', '-y', identity])).stdout.trim();
  await writeFile(join(dir, 'bootstrap.toml'), `[secrets.local]\nrecipients = ["${admin}"]\n${toml}`);
  await writeFile(join(dir, 'flake.nix'), '{ outputs = _: { }; }\n');
  await writeFile(join(dir, 'hosts/web1/secrets.yaml'), 'db: ENC[AES256_GCM,data:xx]\nsops:\n    age: []\n');
  await chmod(join(dir, 'hosts/web1/secrets.yaml'), 0o600);
  return { dir, admin, env: { BOOTSTRAP_AGE_IDENTITY: identity, HOME: join(tmp, 'home'), OP_SERVICE_ACCOUNT_TOKEN: '' } };
}

/** Every path under `dir` (directories too) with its mode and its contents (or link target). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      const st = await lstat(p);
      const key = p.slice(dir.length);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[key] = `link ${mode} -> ${await readlink(p)}`;
      else if (st.isDirectory()) {
        out[key] = `dir ${mode}`;
        await walk(p);
      } else out[key] = `file ${mode} ${(await readFile(p)).toString('base64')}`;
    }
  };
  await walk(dir);
  return out;
}

function assertUsageError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!.replace(/^error: /, ''), pattern);
  assert.match(lines[1]!, /^\s+hint: .*nothing was written$/);
}

const A = 'age1zpaa5rx9hjg3ygqh9x8qrz2dzf8hwkcrkm0vw0e0h2rwqrq6d9ms6r5g6u';

/** [name, .sops.yaml text, the error line: FILE[:LINE]: what]. */
const BROKEN: [string, string, RegExp][] = [
  ['a YAML syntax error', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n   key_groups: []\n`, /^\.sops\.yaml:5: YAML syntax error: /],
  ['an undefined alias', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    key_groups:\n      - age:\n          - *nope\n`, /^\.sops\.yaml:7: undefined alias \*nope/],
  ['a duplicate anchor', `keys:\n  - &admin ${A}\n  - &admin age12zlz6lvcdk6eqaewfylg35w0syh58sm7gh53q5vvn7hd7c6nngyseftjxl\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    age: [*admin]\n`, /^\.sops\.yaml:3: anchor &admin is defined twice \(first on line 2\)/],
  ['creation_rules: 5', `keys:\n  - &admin ${A}\ncreation_rules: 5\n`, /^\.sops\.yaml:3: creation_rules: is a number \(5\), not a list of rules/],
  ['keys: not a list', `keys:\n  admin: ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    age: ${A}\n`, /^\.sops\.yaml:2: keys: is a mapping, not a list/],
  ['a creation rule that is not a mapping', `keys:\n  - &admin ${A}\ncreation_rules:\n  - hosts/web1/.*\n`, /^\.sops\.yaml:4: creation rule #1 is a string, not a mapping/],
  ['key_groups: a mapping', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    key_groups:\n      age:\n        - *admin\n`, /^\.sops\.yaml:6: creation rule #1: key_groups is a mapping, not a list of groups/],
  ['a key group age: 5', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    key_groups:\n      - age: 5\n`, /^\.sops\.yaml:6: creation rule #1: key group #1: age is a number \(5\), not a list/],
  ['a key group age: a mapping', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    key_groups:\n      - age:\n          admin: ${A}\n`, /^\.sops\.yaml:7: creation rule #1: key group #1: age is a mapping, not a list/],
  ['a rule age: 5', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    age: 5\n`, /^\.sops\.yaml:5: creation rule #1: age is a number \(5\), not a list or a comma-separated string/],
  ['a rule with neither path_regex nor any key', `keys:\n  - &admin ${A}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    age: [*admin]\n  - shamir_threshold: 1\n`, /^\.sops\.yaml:6: creation rule #2 has neither path_regex nor any key$/],
  ['an empty file', '', /^\.sops\.yaml: the file is empty$/],
  ['a file of comments only', '# sops rules go here\n', /^\.sops\.yaml: the file holds only comments$/],
  ['a YAML list', `- &admin ${A}\n- path_regex: hosts/web1/.*\n`, /^\.sops\.yaml:1: the document is a list, not a mapping/],
  ['a YAML scalar', 'creation_rules\n', /^\.sops\.yaml:1: the document is a string, not a mapping/],
];

for (const [name, text, pattern] of BROKEN) {
  test(`keys ensure refuses .sops.yaml with ${name}: exit 2, one line, nothing written`, async () => {
    await withTempDir(async (tmp) => {
      const f = await makeFlake(tmp);
      await writeFile(join(f.dir, '.sops.yaml'), text);
      await chmod(join(f.dir, '.sops.yaml'), 0o640);
      const before = await snapshot(f.dir);
      const r = await runCli(['keys', 'ensure', 'web1', '--luks', '--flake', f.dir], { env: f.env });
      assertUsageError(r, pattern);
      assert.deepEqual(await snapshot(f.dir), before);
    });
  });
}

test('keys ensure --dry-run refuses a broken .sops.yaml the same way', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    await writeFile(join(f.dir, '.sops.yaml'), 'keys: []\ncreation_rules: 5\n');
    const before = await snapshot(f.dir);
    const r = await runCli(['keys', 'ensure', 'web1', '--dry-run', '--flake', f.dir], { env: f.env });
    assertUsageError(r, /^\.sops\.yaml:2: creation_rules: is a number/);
    assert.deepEqual(await snapshot(f.dir), before);
  });
});

test('[sops] file in a subdirectory: the error names that path', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp, '[sops]\nfile = "nix/.sops.yaml"\n');
    await mkdir(join(f.dir, 'nix'));
    await writeFile(join(f.dir, 'nix/.sops.yaml'), `keys:\n  - &a ${A}\ncreation_rules:\n  - path_regex: x\n    age: [*b]\n`);
    const before = await snapshot(f.dir);
    const r = await runCli(['keys', 'ensure', 'web1', '--flake', f.dir], { env: f.env });
    assertUsageError(r, /^nix\/\.sops\.yaml:5: undefined alias \*b/);
    assert.deepEqual(await snapshot(f.dir), before);
  });
});

test('agenix: a secrets.nix that does not parse is refused before any write', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp, '[sops]\nmode = "agenix"\n');
    await mkdir(join(f.dir, 'secrets'));
    await writeFile(join(f.dir, 'secrets/secrets.nix'), 'let\n  admin = "ssh-ed25519 AAAA";\nin {\n  "web1/wifi.age".publicKeys = [ admin ]\n}\n');
    const before = await snapshot(f.dir);
    const r = await runCli(['keys', 'ensure', 'web1', '--flake', f.dir], { env: f.env });
    assertUsageError(r, /^secrets\/secrets\.nix:5: syntax error, unexpected '}'/);
    assert.deepEqual(await snapshot(f.dir), before);
  });
});

test('a valid, commented .sops.yaml (a rule with age as a comma-separated string) is edited in place, comments kept', async () => {
  await withTempDir(async (tmp) => {
    const f = await makeFlake(tmp);
    const text = `# admins first, then hosts\nkeys:\n  - &admin ${A} # the operator\ncreation_rules:\n  # per host\n  - path_regex: hosts/web1/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin # always\n  - path_regex: shared/.* # a string, as sops allows\n    age: "${A}"\n`;
    await writeFile(join(f.dir, '.sops.yaml'), text);
    const r = await runCli(['keys', 'ensure', 'web1', '--json', '--flake', f.dir], { env: f.env });
    assert.equal(r.code, 0, r.stderr);
    const recipient = (JSON.parse(r.stdout) as { age: { recipient: string } }).age.recipient;
    const after = await readFile(join(f.dir, '.sops.yaml'), 'utf8');
    assert.equal(after, text.replace(' # the operator\n', ` # the operator\n  - &host_web1 ${recipient}\n`).replace('*admin # always\n', '*admin # always\n          - *host_web1\n'));

    // The user renames the host's anchor: a second run reuses it and adds no `&host_web1` beside it.
    const renamed = after.replace('&host_web1', '&web1_host').replace('*host_web1', '*web1_host');
    await writeFile(join(f.dir, '.sops.yaml'), renamed);
    const again = await runCli(['keys', 'ensure', 'web1', '--json', '--flake', f.dir], { env: f.env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { files: string[] }).files, []);
    assert.equal(await readFile(join(f.dir, '.sops.yaml'), 'utf8'), renamed);
  });
});

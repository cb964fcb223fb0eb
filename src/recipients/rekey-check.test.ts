import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../../test/helpers/tmp.js';
import { runCommand } from '../exec/run.js';
import { buildSshStanzaTag, checkHostDecrypts, parseAgeSshTags, parseSopsFileRecipients, rulesNaming } from './rekey-check.js';

const A = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';
const H = 'age17n64ahe3wesh8l8lj0zylf4nljdmqn28hvqns2g7hgm9mdkhlsvsjuvkxz';
const ctx = { run: runCommand, signal: new AbortController().signal };

/** The metadata sops writes (3.x YAML, JSON, dotenv), with the recipients given. */
const sopsYaml = (...rs: string[]) => `db: ENC[AES256_GCM,data:x,type:str]\nsops:\n    age:\n${rs.map((r) => `        - recipient: ${r}\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            x\n            -----END AGE ENCRYPTED FILE-----\n`).join('')}    version: 3.9.0\n`;

test('sops metadata: recipients from YAML, JSON and dotenv files', () => {
  assert.deepEqual(parseSopsFileRecipients(sopsYaml(A, H)), [A, H]);
  assert.deepEqual(parseSopsFileRecipients(JSON.stringify({ x: 'ENC[…]', sops: { age: [{ recipient: H, enc: '…' }] } }, null, 2)), [H]);
  assert.deepEqual(parseSopsFileRecipients(`X=ENC[…]\nsops_age__list_0__map_recipient=${A}\nsops_version=3.9.0\n`), [A]);
});

test('rules naming a recipient: through aliases, in key_groups or a rule-level comma list', () => {
  const y = `keys:\n  - &admin ${A}\n  - &web1 ${H}\ncreation_rules:\n  - path_regex: hosts/web1/.*\n    key_groups:\n      - age:\n          - *admin\n          - *web1\n  - path_regex: shared/.*\n    age: "${A}, ${H}"\n  - path_regex: other/.*\n    key_groups:\n      - age: [*admin]\n`;
  assert.deepEqual(rulesNaming(y, H), ['hosts/web1/.*', 'shared/.*']);
  assert.deepEqual(rulesNaming('not: [yaml', H), []);
});

test('checkHostDecrypts (sops): files under the host\'s rules not listing it, with the exact fix', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, '.sops.yaml'), `keys:\n  - &admin ${A}\n  - &web1 ${H}\ncreation_rules:\n  - path_regex: hosts/web1/.*\\.yaml$\n    key_groups:\n      - age: [*admin, *web1]\n  - path_regex: .*\\.yaml$\n    key_groups:\n      - age: [*admin]\n`);
    mkdirSync(join(dir, 'hosts/web1'), { recursive: true });
    writeFileSync(join(dir, 'hosts/web1/secrets.yaml'), sopsYaml(A));
    writeFileSync(join(dir, 'hosts/web1/done.yaml'), sopsYaml(A, H));
    writeFileSync(join(dir, 'hosts/web1/plain.yaml'), 'not: encrypted\n');
    writeFileSync(join(dir, 'admin-only.yaml'), sopsYaml(A)); // another rule: the host never reads it
    const r = await checkHostDecrypts(ctx, { flakeDir: dir, mode: 'sops', sopsFile: '.sops.yaml', agenixFile: 'secrets.nix', recipient: H, sshPublicKey: '' });
    assert.deepEqual(r, { missing: ['hosts/web1/secrets.yaml'], commands: ['sops updatekeys -y hosts/web1/secrets.yaml'], checked: true });
  });
});

test('checkHostDecrypts (agenix): real age files, real nix-instantiate on secrets.nix; the stanza tag is age\'s', async () => {
  await withTempDir(async (dir) => {
    const key = (n: string) => {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, n)]);
      return readFileSync(join(dir, `${n}.pub`), 'utf8').trim();
    };
    const host = key('host');
    const admin = key('admin');
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets/secrets.nix'), `let host = "${host}"; admin = "${admin}"; in {\n  "db.age".publicKeys = [ admin host ];\n  "old.age".publicKeys = [ admin host ];\n  "admin.age".publicKeys = [ admin ];\n  "new.age".publicKeys = [ host ];\n}\n`);
    const enc = (name: string, ...recips: string[]) => execFileSync('age', [...recips.flatMap((_, i) => ['-R', join(dir, `r${name}${i}`)]), '-o', join(dir, 'secrets', name)], { input: 'secret', env: { ...process.env }, stdio: ['pipe', 'ignore', 'inherit'] });
    const recipFiles = (name: string, ...recips: string[]) => recips.forEach((r, i) => writeFileSync(join(dir, `r${name}${i}`), `${r}\n`));
    recipFiles('db.age', admin, host);
    enc('db.age', admin, host);
    recipFiles('old.age', admin);
    enc('old.age', admin);
    recipFiles('admin.age', admin);
    enc('admin.age', admin);
    assert.deepEqual(parseAgeSshTags(readFileSync(join(dir, 'secrets/db.age'))).sort(), [buildSshStanzaTag(admin), buildSshStanzaTag(host)].sort());
    const r = await checkHostDecrypts(ctx, { flakeDir: dir, mode: 'agenix', sopsFile: '.sops.yaml', agenixFile: 'secrets/secrets.nix', recipient: H, sshPublicKey: `${host} root@web1` });
    assert.deepEqual(r, { missing: ['secrets/old.age'], commands: ['cd secrets && agenix --rekey'], checked: true });
  });
});

/**
 * Issue 11, end to end: one fixture flake per user shape, each taken through `bootstrap new-host` on
 * a namespace target by the REAL nixos-anywhere.sh (the installer lab), asserting where every key
 * lands on the target (its /mnt), that the operator logs in with their key, that the host's secrets
 * decrypt with the key it received, and what each flake file gained: nothing hand-made.
 *
 *   shape                 bootstrap.toml                              flake gains                      on the target (0600)
 *   1Password + OpNix     store = "onepassword", [sops] mode "none",   nothing (no .sops.yaml)          ssh host key, /etc/opnix-token,
 *   + Tailscale           [tailscale] authKey (op://)                                                  the tailnet auth key
 *   sops, shared admin    separateKeyPath + separateKeyShared, rules   .sops.yaml: &admin_shared,       ssh host key, key.txt (per host),
 *                                                                      &host_X, both aliases in rule    admin-key.txt (same bytes on both)
 *   sops, key per host    (default keyPath), rules                     .sops.yaml: &host_X + alias      ssh host key, /var/lib/sops-nix/key.txt
 *   agenix                [sops] mode "agenix"                         secrets.nix: X = "ssh-…", systems ssh host key (age's identity)
 *   plain configuration   [sops] mode "none"                           nothing (no .sops.yaml)          ssh host key only
 *
 * Issue 21's shape, 1Password + OpNix with SSH only on tailscale0: refused by the lock-out guard
 * without [tailscale] authKey (nothing on the target touched); with it installed, verified over the
 * tailnet name (an ssh config Host block: Tailscale cannot run here), and `status` and `deploy
 * --dry-run` take that route. A real `deploy` is tested in test/deploy/ (this lab's installed
 * system has no system profile, systemd-run or switch-to-configuration).
 *
 * sops and agenix are not installed here: where bootstrap asks for `sops updatekeys` / `agenix
 * --rekey`, the test does what they do with the age CLI (shapes.ts). Root only (network namespaces).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import type { LabTarget } from '../helpers/installer-lab.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { FakeOnePassword } from '../fakes/onepassword-sdk.js';
import type { HealthReport } from '../../src/health/report.js';
import { buildJournalPaths, readJournal } from '../../src/workflow/journal.js';
import { answersToml, assertInstalled, assertNoLeaks, makeFlake, useInstallerLab, type Flake } from './harness.js';
import {
  agenixRekey,
  ageDecrypt,
  anchorRecipient,
  assertNoLeaksOf,
  flakeDiff,
  flakeFiles,
  gainedLines,
  onTarget,
  operatorLogin,
  randomPayload,
  roundTrip,
  sopsStanzas,
  sopsUpdateKeys,
  targetSecretFiles,
  writeSopsFile,
} from './shapes.js';

const skip = netnsSkipReason();

interface KeysShow {
  host: string;
  ssh: { publicKey: string; fingerprint: string; ref: string };
  age: { recipient: string };
}

const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';
const SOPS_KEY = '/var/lib/sops-nix/key.txt';
const ADMIN_KEY = '/var/lib/sops-nix/admin-key.txt';
const OPNIX_TOKEN = '/etc/opnix-token';
const TAILSCALE_KEY = '/var/lib/bootstrap/tailscale-auth-key';
const keyLine = (pub: string) => pub.trim().split(/\s+/).slice(0, 2).join(' ');

/** The flake.nix of each shape (the harness's, plus what the shape's users write). */
const FLAKE_NIX = {
  opnix:
    '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  inputs.opnix.url = "github:brizzbuzz/opnix";\n' +
    '  outputs = { self, nixpkgs, opnix, ... }: {\n    nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem {\n' +
    '      modules = [ opnix.nixosModules.default ./hosts/${n} ];\n    }) (builtins.readDir ./hosts);\n  };\n}\n',
  // The same flake, with the user's own module that lets SSH in only over the tailnet.
  opnixTailnet:
    '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  inputs.opnix.url = "github:brizzbuzz/opnix";\n' +
    '  outputs = { self, nixpkgs, opnix, ... }: {\n    nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem {\n' +
    '      modules = [ opnix.nixosModules.default ./tailscale.nix ./hosts/${n} ];\n    }) (builtins.readDir ./hosts);\n  };\n}\n',
  plain:
    '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  outputs = { self, nixpkgs, ... }: {\n' +
    '    nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem {\n      modules = [ ./configuration.nix ./hosts/${n} ];\n' +
    '    }) (builtins.readDir ./hosts);\n  };\n}\n',
};

/**
 * new-host with an answers file (kept in the flake's runtime dir, not among its files), then what
 * every shape must show: the install went through, root's authorized key in default.nix is the
 * operator's, the target presents and holds the provisioned host key (0600, the fingerprint of
 * `keys show`), and the operator logs in to it with their key.
 */
async function installAndCheckLogin(f: Flake, t: LabTarget, host: string, env: Record<string, string> = {}): Promise<KeysShow> {
  const answers = join(f.dir, '.run', `${host}.answers.toml`);
  writeFileSync(answers, answersToml(t, host));
  const r = await f.cli(['new-host', '--answers', answers, '--json'], env);
  assertInstalled(r);
  const summary = JSON.parse(r.stdout) as { host: string; hostKey: { fingerprint: string } };
  const showRun = await f.cli(['keys', 'show', host, '--json'], env);
  assert.equal(showRun.code, 0, showRun.stderr);
  const show = JSON.parse(showRun.stdout) as KeysShow;
  assert.equal(summary.hostKey.fingerprint, show.ssh.fingerprint);
  assert.equal(t.fingerprint, show.ssh.fingerprint, 'the installed host presents the provisioned key');
  // (a) root's authorized key is the operator's: the .pub of the key the answers named.
  const operator = keyLine(readFileSync(`${t.clientKeyPath}.pub`, 'utf8'));
  assert.ok(readFileSync(join(f.dir, 'hosts', host, 'default.nix'), 'utf8').includes(operator), 'default.nix authorizes the operator key');
  // (b) the host key on the target's disk, 0600, is the provisioned one.
  const hostKey = onTarget(t, HOST_KEY);
  assert.equal((statSync(hostKey).mode & 0o777).toString(8), '600');
  assert.equal(keyLine(execFileSync('ssh-keygen', ['-y', '-f', hostKey]).toString()), keyLine(show.ssh.publicKey));
  assert.equal(keyLine(readFileSync(`${hostKey}.pub`, 'utf8')), keyLine(show.ssh.publicKey));
  // The operator logs in with their key, the host presenting only the provisioned key.
  assert.equal(operatorLogin(t, show.ssh.publicKey), 'root');
  assert.deepEqual(f.secretDirs(), [], 'the secret directory is gone');
  return show;
}

const mode600 = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('flake shapes end to end (issue 11: the real nixos-anywhere.sh, namespace targets)', { skip: skip ?? false, timeout: 20 * 60_000 }, () => {
  const lab = useInstallerLab();

  test('1Password with OpNix and Tailscale: keys in the vault, the service account token at /etc/opnix-token, the tailnet auth key, no sops file', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const token = `ops_${Buffer.from(`{"signInAddress":"my.1password.com","secret":"${randomPayload('op')}"}`).toString('base64')}`;
      const fake = new FakeOnePassword(token, ['Infra']);
      fake.stateFile = join(f.dir, '.run', 'op-state.json');
      fake.save();
      const env = { NB_ONEPASSWORD_SDK: join(REPO_ROOT, 'test/fakes/onepassword-sdk-module.ts'), NB_FAKE_OP_STATE: fake.stateFile, OP_SERVICE_ACCOUNT_TOKEN: token };
      // Issue 21: the tailnet's auth key lives in 1Password too, and reaches the host like the token.
      const authKey = `tskey-auth-${randomPayload('ts')}`;
      fake.addItem({ title: 'tailscale', category: 'ApiCredentials', fields: [{ id: 'credential', title: 'credential', fieldType: 'Concealed', value: authKey }] });
      fake.save();
      writeFileSync(join(f.dir, 'bootstrap.toml'), '[secrets]\nstore = "onepassword"\n[secrets.onepassword]\nvault = "Infra"\n[sops]\nmode = "none"\n[tailscale]\nauthKey = "op://Infra/tailscale/credential"\ntailnet = "tail1234.ts.net"\n');
      writeFileSync(join(f.dir, 'flake.nix'), FLAKE_NIX.opnix);
      rmSync(join(f.dir, '.sops.yaml'));
      const before = flakeFiles(f.dir);

      const show = await installAndCheckLogin(f, t, 'op1', env);
      assert.equal(show.ssh.ref, 'op://Infra/op1 ssh host key/private key');
      assert.deepEqual([...FakeOnePassword.load(fake.stateFile).items.values()].map((i) => i.title), ['tailscale', 'op1 ssh host key']);
      // On the target: the host key, the OpNix token and the Tailscale auth key (0600, the values themselves), nothing for sops.
      assert.deepEqual(targetSecretFiles(t), [OPNIX_TOKEN, HOST_KEY, TAILSCALE_KEY]);
      assert.equal(mode600(onTarget(t, OPNIX_TOKEN)), '600');
      assert.equal(readFileSync(onTarget(t, OPNIX_TOKEN), 'utf8').trim(), token, 'the host reads 1Password with the token it received');
      assert.equal(readFileSync(onTarget(t, TAILSCALE_KEY), 'utf8').trim(), authKey, 'the host joins the tailnet with the key it received');
      // The new default.nix reads it (mkDefault: the flake's own setting wins); the manifest names the host on the tailnet.
      assert.match(readFileSync(join(f.dir, 'hosts/op1/default.nix'), 'utf8'), /services\.tailscale\.authKeyFile = lib\.mkDefault "\/var\/lib\/bootstrap\/tailscale-auth-key";/);
      assert.match(readFileSync(join(f.dir, 'hosts/op1/bootstrap.toml'), 'utf8'), /\[tailscale\]\nname = "op1\.tail1234\.ts\.net"/);
      // The flake gained the host's folder only: no .sops.yaml, no local vault, flake.nix untouched.
      const diff = flakeDiff(before, flakeFiles(f.dir));
      assert.deepEqual(diff, { created: hostFiles('op1'), changed: [], removed: [] });
      assert.ok(!existsSync(join(f.dir, 'secrets')), 'no local vault with store = "onepassword"');
      assert.ok(assertNoLeaksOf(f, [token, authKey, readFileSync(onTarget(t, HOST_KEY), 'utf8')]) > 0);
    } finally {
      await f.close();
    }
  });

  test('1Password, OpNix and SSH only over Tailscale (issue 21): without an auth key the guard refuses before the target is touched; with it the host is installed, verified over HOST.TAILNET, and status and deploy --dry-run reach it there', async () => {
    const t = await lab().addTarget();
    const NAME = 'op1.tail1234.ts.net';
    // The user's module, as such users write it: sshd answers on the tailnet interface only.
    const TAILSCALE_NIX = [
      '{ ... }: {',
      '  services.tailscale.enable = true;',
      '  services.openssh.enable = true;',
      '  # SSH only over the tailnet: nothing on the public interface.',
      '  services.openssh.openFirewall = false;',
      '  networking.firewall.interfaces.tailscale0.allowedTCPPorts = [ 22 ];',
      '}',
      '',
    ].join('\n');
    /** A flake of this shape; the tailnet name maps to the target in an ssh config given at install (--ssh-config, recorded in the manifest). */
    const setUp = async (withAuthKey: boolean) => {
      const f = await makeFlake(lab());
      const token = `ops_${Buffer.from(`{"signInAddress":"my.1password.com","secret":"${randomPayload('op')}"}`).toString('base64')}`;
      const fake = new FakeOnePassword(token, ['Infra']);
      fake.stateFile = join(f.dir, '.run', 'op-state.json');
      const authKey = `tskey-auth-${randomPayload('ts')}`;
      fake.addItem({ title: 'tailscale', category: 'ApiCredentials', fields: [{ id: 'credential', title: 'credential', fieldType: 'Concealed', value: authKey }] });
      fake.save();
      const env = { NB_ONEPASSWORD_SDK: join(REPO_ROOT, 'test/fakes/onepassword-sdk-module.ts'), NB_FAKE_OP_STATE: fake.stateFile, OP_SERVICE_ACCOUNT_TOKEN: token };
      const tailscale = `[tailscale]\n${withAuthKey ? 'authKey = "op://Infra/tailscale/credential"\n' : ''}tailnet = "tail1234.ts.net"\n`;
      writeFileSync(join(f.dir, 'bootstrap.toml'), `[secrets]\nstore = "onepassword"\n[secrets.onepassword]\nvault = "Infra"\n[sops]\nmode = "none"\n${tailscale}`);
      writeFileSync(join(f.dir, 'flake.nix'), FLAKE_NIX.opnixTailnet);
      writeFileSync(join(f.dir, 'tailscale.nix'), TAILSCALE_NIX);
      rmSync(join(f.dir, '.sops.yaml'));
      // Tailscale cannot run here: the operator's name for the host on the tailnet (MagicDNS) is an ssh config Host block.
      const sshConfig = join(f.dir, '.run', 'ssh_config');
      writeFileSync(sshConfig, `Host ${NAME}\n  HostName ${t.ip}\n`);
      const answers = join(f.dir, '.run', 'op1.answers.toml');
      writeFileSync(answers, answersToml(t, 'op1', `sshConfig = "${sshConfig}"\n`));
      return { f, env, token, authKey, answers };
    };

    // Without [tailscale] authKey the host would never join: refused in preflight, nixos-anywhere never started.
    const neg = await setUp(false);
    try {
      const runs = lab().nixCalls().filter((c) => c.kind === 'run').length;
      const r = await neg.f.cli(['new-host', '--answers', neg.answers], neg.env);
      assert.equal(r.code, 1, r.stderr + r.stdout);
      assert.match(r.stderr, /port 22 is open only on tailscale0, and the host gets no Tailscale auth key: it never joins the tailnet/);
      assert.match(r.stderr, /services\.tailscale\.authKeyFile \(or \[tailscale\] authKey in bootstrap\.toml\)/);
      const failed = (await readJournal(buildJournalPaths(neg.f.dir, 'op1'))).filter((e) => e.status === 'failed');
      assert.deepEqual(failed.map((e) => [e.stepId, e.error?.code]), [['preflight', 'lockout']]);
      assert.deepEqual(neg.f.installerRuns(), []);
      assert.equal(lab().nixCalls().filter((c) => c.kind === 'run').length, runs, 'nixos-anywhere never ran');
      assert.deepEqual([t.state().kexecs, t.state().reboots], [0, 0], 'the target was not touched');
    } finally {
      await neg.f.close();
    }

    const pos = await setUp(true);
    const f = pos.f;
    try {
      const r = await f.cli(['new-host', '--answers', pos.answers, '--json'], pos.env);
      assertInstalled(r);
      // The guard let it through because the auth key is delivered, and it is.
      assert.equal(readFileSync(onTarget(t, TAILSCALE_KEY), 'utf8').trim(), pos.authKey);
      assert.equal(mode600(onTarget(t, TAILSCALE_KEY)), '600');
      // Verify waited for the host on the tailnet name (the public address is firewalled), not the target.
      const verify = (await readJournal(buildJournalPaths(f.dir, 'op1'))).filter((e) => e.stepId === 'verify' && e.status === 'done');
      assert.deepEqual(verify.map((e) => e.detail), [`over the tailnet: ${NAME}`]);
      const manifest = readFileSync(join(f.dir, 'hosts/op1/bootstrap.toml'), 'utf8');
      assert.match(manifest, /\[tailscale\]\nname = "op1\.tail1234\.ts\.net"/);
      assert.match(manifest, /^\[ssh\]\nconfig = ".*ssh_config"$/m);

      // status prefers the recorded tailnet name (it resolves here, through the recorded ssh config); --via target is the other route.
      const st = await f.cli(['status', 'op1', '--json', '-i', t.clientKeyPath], pos.env);
      const sh = (JSON.parse(st.stdout) as { hosts: HealthReport[] }).hosts[0]!;
      assert.equal(sh.error, undefined, st.stderr + JSON.stringify(sh.error));
      assert.equal(sh.via, 'tailnet', st.stdout);
      assert.equal(st.code, 0, st.stderr + st.stdout);
      const stTarget = await f.cli(['status', 'op1', '--json', '--via', 'target', '-i', t.clientKeyPath], pos.env);
      assert.equal((JSON.parse(stTarget.stdout) as { hosts: HealthReport[] }).hosts[0]!.via, 'target', stTarget.stderr);

      // deploy --dry-run: its lock-out guard passes the same flake (tailnet-only, auth key file set), over the tailnet name.
      const dry = await f.cli(['deploy', 'op1', '--dry-run', '--json', '-i', t.clientKeyPath], pos.env);
      assert.equal(dry.code, 0, dry.stderr + dry.stdout);
      const plan = (JSON.parse(dry.stdout) as { hosts: Array<{ via?: string; lockouts?: unknown[]; error?: string; current?: string; toplevel?: string }> }).hosts[0]!;
      assert.equal(plan.error, undefined);
      assert.equal(plan.via, 'tailnet');
      assert.deepEqual(plan.lockouts, []);
      assert.ok(plan.toplevel && plan.current === plan.toplevel, `the host runs what the flake builds now: ${plan.current} vs ${plan.toplevel}`);
      assert.ok(assertNoLeaksOf(f, [pos.token, pos.authKey, readFileSync(onTarget(t, HOST_KEY), 'utf8')]) > 0);
    } finally {
      await f.close();
    }
  });

  test('sops-nix with a shared admin age key: the same key at separateKeyPath on two hosts, each with its own key.txt', async () => {
    const [t1, t2] = [await lab().addTarget(), await lab().addTarget()];
    const f = await makeFlake(lab());
    try {
      const admin = anchorRecipient(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), 'admin')!;
      writeFileSync(join(f.dir, 'bootstrap.toml'), `[secrets.local]\nrecipients = ["${admin}"]\n[sops]\nseparateKeyPath = "${ADMIN_KEY}"\nseparateKeyShared = true\nrules = ["secrets/[^/]+\\\\.yaml$"]\n`);
      writeFileSync(join(f.dir, '.sops.yaml'), `# admins and hosts\nkeys:\n  - &admin ${admin} # the operator\ncreation_rules:\n  - path_regex: secrets/[^/]+\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n`);
      // The fleet's admin key, made with age-keygen and imported once.
      const sharedFile = join(f.dir, '.run', 'shared-admin.txt');
      execFileSync('age-keygen', ['-o', sharedFile], { stdio: 'ignore' });
      const shared = execFileSync('age-keygen', ['-y', sharedFile]).toString().trim();
      const before = flakeFiles(f.dir);
      const imp = await f.cli(['keys', 'import', '--shared-admin-age', sharedFile]);
      assert.equal(imp.code, 0, imp.stderr);
      rmSync(sharedFile);

      const s1 = await installAndCheckLogin(f, t1, 'sh1');
      const s2 = await installAndCheckLogin(f, t2, 'sh2');
      for (const [t, s] of [[t1, s1], [t2, s2]] as const) {
        assert.deepEqual(targetSecretFiles(t), [HOST_KEY, ADMIN_KEY, SOPS_KEY]);
        assert.equal(mode600(onTarget(t, SOPS_KEY)), '600');
        assert.equal(mode600(onTarget(t, ADMIN_KEY)), '600');
        // key.txt is the host's own identity (the one derived from its SSH key).
        assert.equal(execFileSync('age-keygen', ['-y', onTarget(t, SOPS_KEY)]).toString().trim(), s.age.recipient);
      }
      const adminKey1 = readFileSync(onTarget(t1, ADMIN_KEY));
      assert.deepEqual(readFileSync(onTarget(t2, ADMIN_KEY)), adminKey1, 'one admin key, the same bytes on both hosts');
      assert.equal(execFileSync('age-keygen', ['-y', onTarget(t1, ADMIN_KEY)]).toString().trim(), shared, 'the imported key');
      assert.notDeepEqual(readFileSync(onTarget(t1, SOPS_KEY)), readFileSync(onTarget(t2, SOPS_KEY)));

      // .sops.yaml gained the shared anchor once, each host's anchor, and their aliases in the rule.
      const sops = readFileSync(join(f.dir, '.sops.yaml'), 'utf8');
      assert.deepEqual(gainedLines(before.get('.sops.yaml')!, sops), [
        `  - &admin_shared ${shared}`,
        `  - &host_sh1 ${s1.age.recipient}`,
        `  - &host_sh2 ${s2.age.recipient}`,
        '          - *host_sh1',
        '          - *admin_shared',
        '          - *host_sh2',
      ]);
      assert.deepEqual(flakeDiff(before, flakeFiles(f.dir)), { created: [...hostFiles('sh1'), ...hostFiles('sh2')].sort(), changed: ['.sops.yaml'], removed: [] });
      // Decryption with what each host received: the recipients .sops.yaml lists for it.
      for (const [t, h] of [[t1, 'sh1'], [t2, 'sh2']] as const) {
        const p = randomPayload(h);
        assert.equal(roundTrip(anchorRecipient(sops, `host_${h}`)!, onTarget(t, SOPS_KEY), p), p);
        assert.equal(roundTrip(anchorRecipient(sops, 'admin_shared')!, onTarget(t, ADMIN_KEY), p), p);
      }
      assert.throws(() => roundTrip(s2.age.recipient, onTarget(t1, SOPS_KEY), 'x'), /Command failed/, "sh1's key does not open sh2's secrets");
      assert.ok(assertNoLeaks(f) > 0);
      assert.ok(assertNoLeaksOf(f, [adminKey1.toString(), readFileSync(onTarget(t1, SOPS_KEY), 'utf8'), readFileSync(onTarget(t2, SOPS_KEY), 'utf8')]) > 0);
    } finally {
      await f.close();
    }
  });

  test('sops-nix with one key per host at /var/lib/sops-nix/key.txt: an existing secret, once rekeyed, opens with the key the host received', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const identity = f.env.BOOTSTRAP_AGE_IDENTITY!;
      const admin = anchorRecipient(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), 'admin')!;
      writeFileSync(join(f.dir, 'bootstrap.toml'), `[secrets.local]\nrecipients = ["${admin}"]\n[sops]\nrules = ["secrets/common\\\\.yaml$"]\n`);
      writeFileSync(
        join(f.dir, '.sops.yaml'),
        readFileSync(join(f.dir, '.sops.yaml'), 'utf8') + '  - path_regex: secrets/common\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n',
      );
      // A secret the fleet already has, encrypted for the admin only.
      mkdirSync(join(f.dir, 'secrets'));
      const dataKey = Buffer.from(randomPayload('data-key'));
      writeSopsFile(join(f.dir, 'secrets/common.yaml'), dataKey, [admin]);
      const before = flakeFiles(f.dir);

      // keys first: the host's recipient is registered, and bootstrap names the file to update.
      const keys = await f.cli(['keys', 'ensure', 'db1', '--json']);
      assert.equal(keys.code, 0, keys.stderr);
      const ensured = JSON.parse(keys.stdout) as { age: { recipient: string }; commands: { toRun: string[][] } };
      assert.deepEqual(ensured.commands.toRun, [['sops', 'updatekeys', '-y', 'secrets/common.yaml']]);
      sopsUpdateKeys(join(f.dir, 'secrets/common.yaml'), identity, [admin, ensured.age.recipient]); // what that sops command does

      const show = await installAndCheckLogin(f, t, 'db1');
      assert.deepEqual(targetSecretFiles(t), [HOST_KEY, SOPS_KEY]);
      assert.equal(mode600(onTarget(t, SOPS_KEY)), '600');
      assert.equal(execFileSync('age-keygen', ['-y', onTarget(t, SOPS_KEY)]).toString().trim(), show.age.recipient, 'key.txt is the identity derived from the host key');

      const sops = readFileSync(join(f.dir, '.sops.yaml'), 'utf8');
      assert.deepEqual(gainedLines(before.get('.sops.yaml')!, sops), [`  - &host_db1 ${show.age.recipient}`, '          - *host_db1']);
      assert.match(sops, /path_regex: secrets\/common\\\.yaml\$\n    key_groups:\n      - age:\n          - \*admin\n          - \*host_db1\n/);
      assert.deepEqual(flakeDiff(before, flakeFiles(f.dir)), { created: hostFiles('db1'), changed: ['.sops.yaml', 'secrets/common.yaml'], removed: [] });
      // The host opens the existing secret's data key, and a new payload for its recipient.
      const hostRecipient = anchorRecipient(sops, 'host_db1')!;
      const stanza = sopsStanzas(readFileSync(join(f.dir, 'secrets/common.yaml'), 'utf8')).get(hostRecipient);
      assert.ok(stanza, 'secrets/common.yaml lists the host');
      assert.deepEqual(ageDecrypt(onTarget(t, SOPS_KEY), stanza), dataKey);
      const p = randomPayload('db1');
      assert.equal(roundTrip(hostRecipient, onTarget(t, SOPS_KEY), p), p);
      assert.ok(assertNoLeaks(f) > 0);
      assert.ok(assertNoLeaksOf(f, [readFileSync(onTarget(t, SOPS_KEY), 'utf8')]) > 0);

      // Broken on purpose: the installed host loses its age key. `status` fails that one check, with its fix.
      rmSync(join(t.dir.varLib, SOPS_KEY.replace('/var/lib/', '')));
      const st = await f.cli(['status', 'db1', '-i', t.clientKeyPath, '--json']);
      assert.equal(st.code, 1, st.stderr);
      const checks = (JSON.parse(st.stdout) as { hosts: Array<{ checks: Array<{ id: string; status: string; hint?: string }> }> }).hosts[0]!.checks;
      assert.deepEqual(checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => [c.id, c.status]), [['secrets.key-file', 'fail']]);
      assert.match(checks.find((c) => c.id === 'secrets.key-file')!.hint!, /put the host's age identity from the secret store back at \/var\/lib\/sops-nix\/key\.txt/);
    } finally {
      await f.close();
    }
  });

  test('agenix with secrets.nix: the host entry is added, a rekeyed secret opens with the host key the target received', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const operatorPub = keyLine(readFileSync(`${t.clientKeyPath}.pub`, 'utf8'));
      writeFileSync(join(f.dir, 'bootstrap.toml'), readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8') + '[sops]\nmode = "agenix"\n');
      rmSync(join(f.dir, '.sops.yaml'));
      mkdirSync(join(f.dir, 'secrets'));
      const secretsNix = `let\n  admin = "${operatorPub}";\n  systems = [ ];\nin\n{\n  "x.age".publicKeys = [ admin ] ++ systems;\n}\n`;
      writeFileSync(join(f.dir, 'secrets/secrets.nix'), secretsNix);
      const plaintext = randomPayload('wifi password');
      writeFileSync(join(f.dir, 'secrets/x.age'), execFileSync('age', ['-R', `${t.clientKeyPath}.pub`], { input: plaintext }));
      const before = flakeFiles(f.dir);

      const keys = await f.cli(['keys', 'ensure', 'ag1', '--json']);
      assert.equal(keys.code, 0, keys.stderr);
      const ensured = JSON.parse(keys.stdout) as { ssh: { publicKey: string }; commands: { toRun: string[][] } };
      assert.deepEqual(ensured.commands.toRun, [['agenix', '--rekey']]);
      agenixRekey(join(f.dir, 'secrets/x.age'), t.clientKeyPath, [operatorPub, keyLine(ensured.ssh.publicKey)]); // what agenix --rekey does

      const show = await installAndCheckLogin(f, t, 'ag1');
      assert.deepEqual(targetSecretFiles(t), [HOST_KEY], 'agenix decrypts with the host key: no age key file');
      assert.equal(
        gainedLines(secretsNix, readFileSync(join(f.dir, 'secrets/secrets.nix'), 'utf8')).join('\n'),
        `  ag1 = "${keyLine(show.ssh.publicKey)}";\n  systems = [ ag1 ];`,
      );
      assert.deepEqual(flakeDiff(before, flakeFiles(f.dir)), { created: hostFiles('ag1'), changed: ['secrets/secrets.nix', 'secrets/x.age'], removed: [] });
      assert.ok(!existsSync(join(f.dir, '.sops.yaml')), 'no .sops.yaml in an agenix flake');
      assert.equal(ageDecrypt(onTarget(t, HOST_KEY), readFileSync(join(f.dir, 'secrets/x.age'))).toString(), plaintext, 'the host decrypts x.age with the key it received');
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('a plain configuration.nix with no secret tool: only the host key reaches the target, no sops file appears', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'bootstrap.toml'), readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8') + '[sops]\nmode = "none"\n');
      rmSync(join(f.dir, '.sops.yaml'));
      writeFileSync(join(f.dir, 'flake.nix'), FLAKE_NIX.plain);
      writeFileSync(join(f.dir, 'configuration.nix'), '{ pkgs, ... }: {\n  time.timeZone = "UTC";\n  environment.systemPackages = [ pkgs.git ];\n}\n');
      const before = flakeFiles(f.dir);

      await installAndCheckLogin(f, t, 'pl1');
      assert.deepEqual(targetSecretFiles(t), [HOST_KEY], 'nothing secret but the host key');
      assert.ok(!t.mntFiles().some((e) => e.path.includes('sops-nix') || e.path.includes('bootstrap/secrets')));
      assert.deepEqual(flakeDiff(before, flakeFiles(f.dir)), { created: hostFiles('pl1'), changed: [], removed: [] });
      assert.ok(!existsSync(join(f.dir, '.sops.yaml')), 'no .sops.yaml created');
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('PermitRootLogin = "no" with an admin in wheel (issue 18): installed, reported on as admin with sudo -n, rebuilt through the real script as admin', async () => {
    const t = await lab().addTarget({ installedLogin: 'admin' });
    const f = await makeFlake(lab());
    try {
      const operator = keyLine(readFileSync(`${t.clientKeyPath}.pub`, 'utf8'));
      writeFileSync(join(f.dir, 'bootstrap.toml'), readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8') + '[sops]\nmode = "none"\n');
      rmSync(join(f.dir, '.sops.yaml'));
      writeFileSync(join(f.dir, 'flake.nix'), FLAKE_NIX.plain);
      // The policy as such a user writes it: nobody logs in as root (the generated
      // prohibit-password is a default and yields), admins in wheel use sudo without a password,
      // the operator is an admin.
      writeFileSync(join(f.dir, 'configuration.nix'), [
        '{ lib, ... }: {',
        '  services.openssh.settings.PermitRootLogin = "no";',
        '  security.sudo.wheelNeedsPassword = false;',
        '  users.users.admin = {',
        '    isNormalUser = true;',
        '    extraGroups = [ "wheel" ];',
        `    openssh.authorizedKeys.keys = [ "${operator} operator@laptop" ];`,
        '  };',
        '}',
        '',
      ].join('\n'));
      const answers = join(f.dir, '.run', 'na1.answers.toml');
      writeFileSync(answers, answersToml(t, 'na1'));
      const r = await f.cli(['new-host', '--answers', answers, '--json']);
      assertInstalled(r);
      // Preflight found the admin in the evaluated config and recorded it; the install target stays root@.
      const manifest = readFileSync(join(f.dir, 'hosts/na1/bootstrap.toml'), 'utf8');
      assert.match(manifest, /^\[login\]\nuser = "admin"$/m);
      assert.match(manifest, new RegExp(`^target = "root@${t.ip.replace(/\./g, '\\.')}"$`, 'm'));
      // Root may not log in any more; the report after the install was collected as admin, as root through sudo -n.
      assert.throws(() => operatorLogin(t, t.hostPub), 'root is refused by the installed sshd');
      const health = (JSON.parse(r.stdout) as { health: HealthReport }).health;
      assert.equal(health.error, undefined, JSON.stringify(health.error));
      assert.match(health.target, /^admin@/);
      assert.deepEqual(health.checks.filter((c) => c.id === 'identity.login').map((c) => [c.status, c.summary]), [['ok', 'logged in as admin, checked as root through sudo -n']]);
      // status reaches it the same way.
      const st = await f.cli(['status', 'na1', '--json', '-i', t.clientKeyPath]);
      const sh = (JSON.parse(st.stdout) as { hosts: HealthReport[] }).hosts[0]!;
      assert.equal(sh.error, undefined, st.stderr + JSON.stringify(sh.error));
      assert.match(sh.target, /^admin@/);

      // rebuild: the real nixos-anywhere.sh logs in as admin, kexecs through sudo, continues as root in the installer.
      const fp = t.fingerprint;
      const rb = await f.cli(['rebuild', 'na1', '--yes', '-i', t.clientKeyPath, '--json', '--wait-timeout', '60']);
      assertInstalled(rb);
      const last = f.installerRuns().at(-1)!;
      assert.match(last.argv, new RegExp(`admin@${t.ip.replace(/\./g, '\\.')}`), last.argv);
      assert.deepEqual([t.state().kexecs, t.state().reboots, t.fingerprint], [2, 2, fp]);
      assert.match(f.installerLogs(), /kexec\/run/, 'kexec/run ran (through sudo, as admin is not root)');
      assert.match((JSON.parse(rb.stdout) as { health: HealthReport }).health.target, /^admin@/);
      assert.match(readFileSync(join(f.dir, 'hosts/na1/bootstrap.toml'), 'utf8'), new RegExp(`^target = "root@${t.ip.replace(/\./g, '\\.')}"$`, 'm'), 'the manifest keeps its target');
    } finally {
      await f.close();
    }
  });
});

/** What new-host writes into a host's folder. */
function hostFiles(host: string): string[] {
  return ['bootstrap.toml', 'default.nix', 'disko.nix', 'facts.json', 'hardware.nix'].map((n) => `hosts/${host}/${n}`);
}

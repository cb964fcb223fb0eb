/**
 * The real nixos-anywhere.sh where installs go wrong: a configuration that does not build, files
 * nix cannot see, a host key that changes after kexec or after the probe (a machine in the
 * middle), a custom port, a NixOS installer reached as nixos@, a rescue system with only a root
 * password, an installer port that never answers (bounded by the phase time limit), and a fleet.
 * Namespace targets of the installer lab; root only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { LabTarget } from '../helpers/installer-lab.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { answersToml, assertInstalled, assertNoLeaks, installerProcesses, LAB_DISK as DISK, makeFlake, useInstallerLab } from './harness.js';

const skip = netnsSkipReason();

/** Nothing of the install reached the target: no kexec, no key upload, an empty /mnt and /tmp. */
function assertUntouched(t: LabTarget): void {
  const st = t.state();
  assert.deepEqual([st.phase, st.kexecs, st.diskoRan], ['original', 0, false]);
  assert.deepEqual(t.mntFiles(), []);
  assert.deepEqual(readdirSync(t.dir.tmp), []);
  assert.ok(!existsSync(join(t.dir.root, 'kexec')), 'no kexec upload');
}

describe('installer safety (the real nixos-anywhere.sh, namespace targets)', { skip: skip ?? false, timeout: 20 * 60_000 }, () => {
  const lab = useInstallerLab();

  test('a configuration that does not build, or that nobody could log into, stops in preflight, before the target is touched', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      // default.nix is the user's file (never overwritten): a typo in it.
      mkdirSync(join(f.dir, 'hosts/bf1'), { recursive: true });
      writeFileSync(join(f.dir, 'hosts/bf1/default.nix'), '{ ... }: { imports = [ ./disko.nix ./hardware.nix ]; networking.hostName = "bf1" }\n');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'bf1', 'encrypt = true\n'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nixosConfigurations\.bf1 does not evaluate: error: syntax error/);
      assert.match(r.stderr, /nothing on the target was touched/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.deepEqual(f.installerRuns(), []);
      assertUntouched(t);
      assert.deepEqual(f.secretDirs(), []);
      // A configuration that evaluates but whose build fails: the same, from the build itself.
      writeFileSync(join(f.dir, 'hosts/bf1/default.nix'), '{ ... }: { imports = [ ./disko.nix ./hardware.nix ]; networking.hostName = "bf1"; }\n');
      // It evaluates, but nobody could log in after the wipe: its own default.nix names no key.
      const r1 = await f.cli(['new-host', 'bf1', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assert.equal(r1.code, 1, r1.stderr);
      assert.match(r1.stderr, /no user of bf1 has an authorized SSH key: after the wipe nobody could log in/);
      assert.match(r1.stderr, /--login-key .*users\.users\.root\.openssh\.authorizedKeys\.keys in hosts\/bf1\/default\.nix.*--allow-no-login/);
      assertUntouched(t);
      // Told to go on anyway, the lock-out guard is next (issue 21): NixOS leaves sshd off unless told.
      const r2 = await f.cli(['new-host', 'bf1', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath, '--allow-no-login'], { FAKE_NIX_BUILD_FAIL: '1' });
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, /warning: no user of bf1 has an authorized SSH key/);
      assert.match(r2.stderr, /after the install you could not log into bf1: sshd is disabled: nobody can log in over SSH \(change services\.openssh\.enable = true\)/);
      assert.match(r2.stderr, /or pass --allow-lockout; nothing on the target was touched/);
      assert.deepEqual(f.installerRuns(), []);
      assertUntouched(t);
      // Overridden too, the build failure is next.
      const r3 = await f.cli(['new-host', 'bf1', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath, '--allow-no-login', '--allow-lockout'], { FAKE_NIX_BUILD_FAIL: '1' });
      assert.equal(r3.code, 1);
      assert.match(r3.stderr, /warning: bf1 would lock you out \(--allow-lockout\): sshd is disabled/);
      assert.match(r3.stderr, /nixosConfigurations\.bf1 does not build: error: builder for .*nixos-system-bf1.* failed/);
      assert.deepEqual(f.installerRuns(), []);
      assertUntouched(t);
      // Issue 18: root holds the operator's key but sshd refuses root, and the admin holding it cannot
      // become root: no login bootstrap could use after the wipe (status, rebuild, recover), refused
      // before the target is touched. Another host of the flake, on the same target.
      const operator = readFileSync(`${t.clientKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
      mkdirSync(join(f.dir, 'hosts/bf2'), { recursive: true });
      writeFileSync(join(f.dir, 'hosts/bf2/default.nix'), `{ ... }: {\n  imports = [ ./disko.nix ./hardware.nix ];\n  networking.hostName = "bf2";\n  services.openssh.enable = true;\n  services.openssh.settings.PermitRootLogin = "no";\n  users.users.root.openssh.authorizedKeys.keys = [ "${operator}" ];\n  users.users.ops = { isNormalUser = true; openssh.authorizedKeys.keys = [ "${operator}" ]; };\n}\n`);
      writeFileSync(join(f.dir, 'b.toml'), answersToml(t, 'bf2'));
      const r3b = await f.cli(['new-host', '--answers', join(f.dir, 'b.toml')]);
      assert.equal(r3b.code, 1, r3b.stderr);
      assert.match(r3b.stderr, /no login bootstrap could use after the install: root \(PermitRootLogin = "no"\), ops \(ops cannot become root \(not in wheel, no sudo rule\)\)/);
      assert.match(r3b.stderr, /--login-user NAME.*--allow-no-login; nothing on the target was touched/);
      // --login-user naming that user: refused with its reason.
      const r4 = await f.cli(['new-host', 'bf2', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath, '--login-user', 'ops']);
      assert.notEqual(r4.code, 0);
      assert.match(r4.stderr, /--login-user ops: ops cannot become root/);
      // Told to go on anyway: a warning, and the build is next.
      const r5 = await f.cli(['new-host', 'bf2', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath, '--allow-no-login', '--allow-lockout'], { FAKE_NIX_BUILD_FAIL: '1' });
      assert.equal(r5.code, 1);
      assert.match(r5.stderr, /warning: .*ops cannot become root/);
      assert.match(r5.stderr, /does not build/);
      assert.deepEqual(f.installerRuns(), []);
      assertUntouched(t);
      // Issue 21: hardening as users write it. sshd bound to a private address only (ListenAddress),
      // then an AllowUsers list without root (the login): each refused by the lock-out guard through
      // the CLI's preflight, naming the option, before the target is touched.
      mkdirSync(join(f.dir, 'hosts/bf3'), { recursive: true });
      const bf3 = (hardening: string) => writeFileSync(join(f.dir, 'hosts/bf3/default.nix'), `{ ... }: {\n  imports = [ ./disko.nix ./hardware.nix ];\n  networking.hostName = "bf3";\n  services.openssh.enable = true;\n${hardening}\n  users.users.root.openssh.authorizedKeys.keys = [ "${operator}" ];\n}\n`);
      bf3('  services.openssh.listenAddresses = [ { addr = "10.99.0.5"; } ];');
      writeFileSync(join(f.dir, 'c.toml'), answersToml(t, 'bf3'));
      const r6 = await f.cli(['new-host', '--answers', join(f.dir, 'c.toml')]);
      assert.equal(r6.code, 1, r6.stderr);
      assert.match(r6.stderr, new RegExp(`after the install you could not log into bf3: sshd listens on port 22 only on 10\\.99\\.0\\.5 \\(ListenAddress\\), not on ${t.ip.replace(/\./g, '\\.')} where bootstrap connects`));
      assert.match(r6.stderr, /hint: set services\.openssh\.listenAddresses \(add \{ addr = "[0-9.]+"; \}.*--allow-lockout; nothing on the target was touched/);
      bf3('  services.openssh.settings.AllowUsers = [ "ops" ];');
      const r7 = await f.cli(['new-host', 'bf3', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assert.equal(r7.code, 1, r7.stderr);
      assert.match(r7.stderr, /sshd refuses root, the user bootstrap logs in as: AllowUsers does not list root \(change services\.openssh\.settings\.AllowUsers \(add "root"\)\)/);
      const r8 = await f.cli(['new-host', 'bf3', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath, '--allow-lockout'], { FAKE_NIX_BUILD_FAIL: '1' });
      assert.equal(r8.code, 1, r8.stderr);
      assert.match(r8.stderr, /warning: bf3 would lock you out \(--allow-lockout\): sshd refuses root/);
      assert.match(r8.stderr, /does not build/);
      assert.deepEqual(f.installerRuns(), []);
      assertUntouched(t);
    } finally {
      await f.close();
    }
  });

  test('secrets the host must read but is not a recipient of stop the run before the target is touched, with the exact command', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      // The operator's secrets of rk1, encrypted (sops metadata) for the admin only, under a rule naming rk1.
      const admin = /&admin (age1\S+)/.exec(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'))![1]!;
      // (first match wins in sops: the rule for rk1 goes before the harness's rule for every host)
      const yaml = readFileSync(join(f.dir, '.sops.yaml'), 'utf8').replace('creation_rules:\n', 'creation_rules:\n  - path_regex: hosts/rk1/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n');
      writeFileSync(join(f.dir, '.sops.yaml'), yaml);
      mkdirSync(join(f.dir, 'hosts/rk1'), { recursive: true });
      writeFileSync(join(f.dir, 'hosts/rk1/secrets.yaml'), `db: ENC[AES256_GCM,data:x,type:str]\nsops:\n    age:\n        - recipient: ${admin}\n          enc: x\n    version: 3.9.0\n`);
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'rk1'));
      // sops is not installed here: bootstrap cannot run updatekeys itself.
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /1 secret file rk1 must read is not encrypted for it: hosts\/rk1\/secrets\.yaml/);
      assert.match(r.stderr, /run sops updatekeys -y hosts\/rk1\/secrets\.yaml .*--resume.*--skip-rekey/);
      assert.match(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), /path_regex: hosts\/rk1\/secrets\\\.yaml\$\n    key_groups:\n      - age:\n          - \*admin\n          - \*host_rk1/);
      assert.deepEqual(f.installerRuns(), []);
      assertUntouched(t);
      const last = readFileSync(join(f.dir, '.bootstrap/state/rk1/journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stepId: string; status: string }).at(-1)!;
      assert.deepEqual([last.stepId, last.status], ['recipients', 'failed']);
    } finally {
      await f.close();
    }
  });

  test('in a git flake, host files git does not track stop preflight with the git add to run', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const git = (...a: string[]) => execFileSync('git', ['-C', f.dir, ...a], { stdio: 'pipe', encoding: 'utf8' });
      git('init', '-q');
      writeFileSync(join(f.dir, '.gitignore'), '.bootstrap/\nhosts/ign1/\n');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'ign1'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nix cannot see hosts\/ign1\/disko\.nix, hosts\/ign1\/hardware\.nix, hosts\/ign1\/default\.nix/);
      assert.match(r.stderr, /git -C \S+ add hosts\/ign1\/disko\.nix/);
      assertUntouched(t);
      // Where git may see them, the write step adds them with --intent-to-add, so the install goes on.
      writeFileSync(join(f.dir, '.gitignore'), '.bootstrap/\n');
      writeFileSync(join(f.dir, 'b.toml'), answersToml(t, 'ok1'));
      const ok = await f.cli(['new-host', '--answers', join(f.dir, 'b.toml')]);
      assertInstalled(ok);
      assert.match(git('ls-files', 'hosts/ok1'), /hosts\/ok1\/default\.nix/);
    } finally {
      await f.close();
    }
  });

  test('a config that formats other disks than planned stops in preflight', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      mkdirSync(join(f.dir, 'hosts/dm1'), { recursive: true });
      writeFileSync(join(f.dir, 'hosts/dm1/default.nix'), '{ ... }: { imports = [ ./hardware.nix ./old-disko.nix ]; }\n');
      writeFileSync(join(f.dir, 'hosts/dm1/old-disko.nix'), '{ disko.devices.disk.main = { type = "disk"; device = "/dev/sda"; }; }\n');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'dm1'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /does not use the planned disk layout: it would format \/dev\/sda; it does not use \/dev\/disk\/by-id\//);
      assertUntouched(t);
    } finally {
      await f.close();
    }
  });

  test('a host key that changes after kexec stops the run before disko: no key, passphrase or file is sent', async () => {
    const t = await lab().addTarget({ installerKey: 'fresh' });
    const f = await makeFlake(lab());
    try {
      const pinned = t.fingerprint;
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'mitm1', 'encrypt = true\n'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(t.state().kexecs, 1);
      assert.notEqual(t.fingerprint, pinned);
      assert.match(r.stderr, new RegExp(`presents ${t.fingerprint.replace(/[+/]/g, '\\$&')}, not the pinned ${pinned.replace(/[+/]/g, '\\$&')} \\(phase kexec\\)`));
      assert.match(r.stderr, /--resume/);
      assert.equal(t.state().diskoRan, false);
      assert.deepEqual(t.mntFiles(), [], 'no extra files');
      assert.ok(!existsSync(join(t.dir.tmp, 'secret.key')), 'no LUKS passphrase');
      const last = readFileSync(join(f.dir, '.bootstrap/state/mitm1/journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stepId: string; status: string }).at(-1)!;
      assert.deepEqual([last.stepId, last.status], ['kexec', 'failed']);
      assert.deepEqual(f.secretDirs(), []);
    } finally {
      await f.close();
    }
  });

  test('a machine in the middle after the probe gets nothing: the installer stops at its first connection', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      // First run stops in preflight (the flake lacks the host), after the probe pinned the real key.
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'mid1', 'copyHostKeys = true\n'));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')], { FAKE_NIX_HOSTS: 'other' });
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, /no nixosConfigurations\.mid1/);
      const authorized = readFileSync(join(t.dir.root, '.ssh/authorized_keys'), 'utf8');
      // Another machine now answers at the target's address, with its own key.
      await t.host.restartWithHostKey();
      // --from kexec: past preflight's own pinned re-probe, straight to the installer's connections.
      const r2 = await f.cli(['new-host', 'mid1', '--from', 'kexec', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, /presents SHA256:\S+, not the pinned/);
      assert.equal(f.installerRuns().length, 1, 'the installer was started, and stopped');
      assertUntouched(t);
      assert.equal(readFileSync(join(t.dir.root, '.ssh/authorized_keys'), 'utf8'), authorized, 'ssh-copy-id got nothing through');
    } finally {
      await f.close();
    }
  });

  test('a disk that changed since the plan stops preflight (it reads the disks again), before anything is wiped', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'drift1'));
      const r1 = await f.cli(['new-host', 'drift1', '--answers', join(f.dir, 'a.toml')], { FAKE_NIX_HOSTS: 'other' });
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, /no nixosConfigurations\.drift1/);
      // The resumed run plans from the saved report; the machine's disk is another size now.
      const shim = join(t.dir.base, 'shims/lsblk');
      const json = execFileSync(shim, { encoding: 'utf8' }).replace(/"size":\s*(\d+)/, (_m, n: string) => `"size": ${Number(n) * 2}`);
      writeFileSync(join(t.dir.base, 'lsblk-changed.json'), json);
      writeFileSync(shim, `#!/bin/sh\ncat '${join(t.dir.base, 'lsblk-changed.json')}'\n`);
      const r2 = await f.cli(['new-host', 'drift1', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assert.equal(r2.code, 1, r2.stderr);
      assert.match(r2.stderr, /the install disk \S+ changed on drift1 \(size \d+ → \d+ bytes\); nothing was wiped/);
      assert.equal(f.installerRuns().length, 0);
      assertUntouched(t);
    } finally {
      await f.close();
    }
  });

  test('a target on port 2222: kexec, then every call on the installer port 22, the installed host back on 2222', async () => {
    const t = await lab().addTarget({ port: 2222 });
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'port1'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml'), '--json']);
      assertInstalled(r);
      assert.equal(t.port, 2222);
      assert.equal(t.state().phase, 'installed');
      assert.match(f.installerRuns()[0]!.argv, /--target-host root@\S+ -p 2222 /);
      assert.match(readFileSync(join(f.dir, 'hosts/port1/bootstrap.toml'), 'utf8'), /target = "root@[0-9.]+:2222"/);
    } finally {
      await f.close();
    }
  });

  test('a NixOS installer reached as nixos@ (root has no key): the script switches to root itself', async () => {
    const t = await lab().addTarget({ login: 'nixos-installer' });
    const f = await makeFlake(lab());
    try {
      assert.equal(t.user, 'nixos');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'iso1'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml'), '--json']);
      assertInstalled(r);
      assert.equal(t.state().kexecs, 0, 'no kexec on an installer');
      assert.equal(t.state().phase, 'installed');
      assert.match(f.installerRuns()[0]!.argv, /--target-host nixos@\S+ .*--phases kexec,disko,install,reboot/);
    } finally {
      await f.close();
    }
  });

  test('a rescue system with only a root password: --password-env reaches the probe and the installer', async () => {
    const t = await lab().addTarget({ login: 'root-password', rootPassword: 'rescue-Passw0rd-xyz' });
    const f = await makeFlake(lab());
    try {
      // No key to log into the rescue system, but the installed host needs one: the operator's.
      const toml = answersToml(t, 'pw1', `passwordEnv = "RESCUE_PW"\nloginKeys = ["${t.clientKeyPath}.pub"]\n`).replace(/^identity = .*\n/m, '');
      writeFileSync(join(f.dir, 'a.toml'), toml);
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')], { RESCUE_PW: 'rescue-Passw0rd-xyz' });
      // Installed (exit 3: health failing): the installed host takes keys only, so the report's own
      // login with the rescue password is refused; the operator logs in with the login key.
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stdout, /refused every login we offered \(password from \$RESCUE_PW\)/);
      assert.equal(t.state().phase, 'installed');
      assert.match(f.installerRuns()[0]!.argv, /--env-password/);
      assert.ok(!f.printed.join('').includes('rescue-Passw0rd-xyz'));
      assert.ok(!readFileSync(join(f.dir, '.bootstrap/logs', readdirSync(join(f.dir, '.bootstrap/logs'))[0]!), 'utf8').includes('rescue-Passw0rd-xyz'));
    } finally {
      await f.close();
    }
  });

  test('an installer port that never answers ends at the phase time limit with the likely cause, resumable', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'hang1', 'postKexecPort = 2299\nphaseTimeouts = { kexec = "25s" }\n'));
      const started = Date.now();
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 1);
      assert.ok(Date.now() - started < 60_000, 'bounded by the time limit');
      assert.match(r.stderr, /phase kexec ran out of time \(25 s\) while booting the installer; waiting for SSH on [0-9.]+:2299 after kexec/);
      assert.match(r.stderr, /--post-kexec-port/);
      assert.deepEqual(installerProcesses(f), [], 'the installer and its loops were stopped');
      assert.equal(t.state().diskoRan, false);
      // The fix: the right port, and --resume continues with a call on it.
      const r2 = await f.cli(['new-host', 'hang1', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath, '--post-kexec-port', '22']);
      assertInstalled(r2);
      assert.equal(t.state().phase, 'installed');
    } finally {
      await f.close();
    }
  });

  test('fleet: three hosts in parallel and one unreachable, each through the real script; the summary says which', async () => {
    const targets = [await lab().addTarget(), await lab().addTarget(), await lab().addTarget()];
    const f = await makeFlake(lab());
    try {
      const key = join(f.dir, '.fleet-key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const names = ['fa', 'fb', 'fc'];
      for (const [i, t] of targets.entries()) {
        appendFileSync(join(t.dir.root, '.ssh/authorized_keys'), readFileSync(`${key}.pub`, 'utf8'));
        const p = await f.cli(['plan', names[i]!, '--target', t.target, '-i', key, '--host-key', t.fingerprint, '--write']);
        assert.equal(p.code, 0, p.stderr);
      }
      // fdown is down: its manifest points at a port nothing listens on.
      const p = await f.cli(['plan', 'fdown', '--target', targets[0]!.target, '-i', key, '--write']);
      assert.equal(p.code, 0, p.stderr);
      const m = join(f.dir, 'hosts/fdown/bootstrap.toml');
      writeFileSync(m, readFileSync(m, 'utf8').replace(/target = "root@([0-9.]+)"/, 'target = "root@$1:2"'));
      const r = await f.cli(['rebuild', '--hosts', 'fa,fb,fc,fdown', '--parallel', '4', '-i', key, '--json', '--wait-timeout', '60']);
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { ok: boolean; hosts: { host: string; ok: boolean; error?: { code: string } }[] };
      assert.deepEqual(out.hosts.map((h) => [h.host, h.ok]), [['fa', true], ['fb', true], ['fc', true], ['fdown', false]], JSON.stringify(out.hosts));
      // plan --write put the operator's key (the -i key's .pub) in each new default.nix.
      for (const n of names) assert.ok(readFileSync(join(f.dir, 'hosts', n, 'default.nix'), 'utf8').includes(readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!), n);
      for (const t of targets) assert.equal(t.state().phase, 'installed');
      const sops = readFileSync(join(f.dir, '.sops.yaml'), 'utf8');
      for (const n of names) assert.match(sops, new RegExp(`&host_${n} age1`));
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });
});

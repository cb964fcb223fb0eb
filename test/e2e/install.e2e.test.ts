/**
 * End to end: `bootstrap new-host`, `rebuild`, `recover` and a fleet rebuild against real sshds in
 * network namespaces, with the FAKE nixos-anywhere (the reboot restarts the namespace's sshd
 * with the key it was handed, so the identity check runs over real SSH). Root only.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createNetnsLab, netnsSkipReason, type NetnsHost, type NetnsLab } from '../helpers/netns.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { buildFakeMachine } from '../helpers/fake-hardware.js';
import { answersToml, assertNoLeaks, makeFlake, type Flake } from './harness.js';

const skip = netnsSkipReason();
/** Every target is a Hetzner Cloud VPS in its rescue system (fake /sys, /dev/disk, lsblk, …). */
const SCENARIO = `${REPO_ROOT}test/fixtures/scenarios/hetzner-cloud-bios`;
const DISK = '/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_120210839';

const journal = (f: Flake, host: string) =>
  readFileSync(join(f.dir, '.bootstrap/state', host, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runId: string; stepId: string; status: string });
const phasesRun = (f: Flake) => f.installerCalls().map((a) => a[a.indexOf('--phases') + 1]);

describe('install end to end (network namespace targets, fake installer)', { skip: skip ?? false }, () => {
  let lab: NetnsLab;
  const hosts = new Map<string, NetnsHost>();
  const shimDirs = new Map<string, string>();
  const work = mkdtempSync(join(tmpdir(), 'nb-e2e-'));
  before(async () => {
    lab = await createNetnsLab();
    for (const name of ['web1', 'web2', 'spare', 'new1', 'rec']) {
      const fake = buildFakeMachine(SCENARIO, join(work, name));
      shimDirs.set(name, fake.shimDir);
      hosts.set(name, await lab.addHost({ shimDir: fake.shimDir, mounts: fake.mounts, hostname: fake.hostname }));
    }
  });
  after(async () => {
    await lab?.teardown();
    rmSync(work, { recursive: true, force: true });
  });

  test('new-host installs web1: files, keys, recipients, four phases, and the rebooted host presents the provisioned key', async () => {
    const h = hosts.get('web1')!;
    const f = await makeFlake(hosts);
    try {
      writeFileSync(join(f.dir, 'web1.toml'), answersToml(h, 'web1').replace('/dev/vda', DISK));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'web1.toml'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { host: string; hostKey: { fingerprint: string }; ran: string[]; log: string };
      assert.equal(summary.host, 'web1');
      assert.deepEqual(summary.ran, ['write', 'keys', 'recipients', 'preflight', 'kexec', 'disko', 'install', 'reboot', 'verify']);
      // The target really restarted with our key, and it is what the CLI says and what is pinned.
      assert.equal(h.fingerprint, summary.hostKey.fingerprint);
      assert.match(readFileSync(join(f.dir, '.bootstrap/known_hosts'), 'utf8'), new RegExp(readFileSync(`${h.hostKeyPath}.pub`, 'utf8').split(' ')[1]!.replace(/[+/]/g, '\\$&')));
      for (const file of ['disko.nix', 'hardware.nix', 'default.nix', 'facts.json', 'bootstrap.toml']) assert.ok(existsSync(join(f.dir, 'hosts/web1', file)), file);
      assert.match(readFileSync(join(f.dir, 'hosts/web1/bootstrap.toml'), 'utf8'), /sshHostKey = "local:/);
      assert.match(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), /&host_web1 age1/);
      assert.match(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), /# the operator/);
      assert.deepEqual(phasesRun(f), ['kexec', 'disko', 'install', 'reboot']);
      assert.deepEqual(f.secretDirs(), []);
      // rebuild from the committed manifest: --yes alone (the manifest names the disk), same identity.
      const fp = h.fingerprint;
      const rb = await f.cli(['rebuild', 'web1', '--yes', '-i', h.clientKeyPath, '--json', '--wait-timeout', '60']);
      assert.equal(rb.code, 0, rb.stderr);
      assert.equal((JSON.parse(rb.stdout) as { hostKey: { fingerprint: string } }).hostKey.fingerprint, fp);
      assert.equal(h.fingerprint, fp, 'rebuild reused the provisioned key');

      // A changed disk serial in the manifest stops the rebuild before any write.
      const manifestPath = join(f.dir, 'hosts/web1/bootstrap.toml');
      const before = readFileSync(manifestPath, 'utf8');
      writeFileSync(manifestPath, before.replace(/sizeBytes = (\d+)/, (_m, n: string) => `sizeBytes = ${Number(n) + 1}`));
      const calls = f.installerCalls().length;
      const bad = await f.cli(['rebuild', 'web1', '--yes', '-i', h.clientKeyPath]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /install disk .* changed \(size/);
      assert.match(bad.stderr, /bootstrap recover web1/);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
      assert.equal(f.installerCalls().length, calls, 'no installer call');
      assert.equal(readFileSync(join(f.dir, 'hosts/web1/hardware.nix'), 'utf8').length > 0, true);
      assert.ok(assertNoLeaks(f) > 0, 'the leak scan looked for something');
    } finally {
      await f.close();
    }
  });

  test('a failed disko phase resumes with --resume and runs no finished step twice', async () => {
    const h = hosts.get('web2')!;
    const f = await makeFlake(hosts);
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'web2').replace('/dev/vda', DISK));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')], { FAKE_NA_FAIL_PHASE: 'disko' });
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, /nixos-anywhere failed in phase disko/);
      assert.match(r1.stderr, /--resume/);
      assert.deepEqual(f.secretDirs(), []);
      const r2 = await f.cli(['new-host', 'web2', '--resume', '--yes', '--confirm-disk', DISK, '-i', h.clientKeyPath]);
      assert.equal(r2.code, 0, r2.stderr);
      assert.deepEqual(phasesRun(f), ['kexec', 'disko', 'disko', 'install', 'reboot']);
      const entries = journal(f, 'web2');
      const runs = [...new Set(entries.map((e) => e.runId))];
      assert.equal(runs.length, 2);
      const second = entries.filter((e) => e.runId === runs[1]);
      assert.deepEqual(second.filter((e) => e.status === 'started').map((e) => e.stepId), ['disko', 'install', 'reboot', 'verify']);
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('a host that comes back with another key fails the verify step, naming both keys', async () => {
    const h = hosts.get('spare')!;
    const f = await makeFlake(hosts, { swapKey: true });
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'spare').replace('/dev/vda', DISK));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /presents host key SHA256:\S+ .*must present SHA256:/);
      const last = journal(f, 'spare').at(-1)!;
      assert.deepEqual([last.stepId, last.status], ['verify', 'failed']);
    } finally {
      await f.close();
    }
  });

  test('recover reinstalls web3 on a new machine with the same identity', async () => {
    const old = hosts.get('spare')!;
    const fresh = hosts.get('new1')!;
    const f = await makeFlake(hosts);
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(old, 'web3').replace('/dev/vda', DISK));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml'), '--json']);
      assert.equal(r1.code, 0, r1.stderr);
      const fp = (JSON.parse(r1.stdout) as { hostKey: { fingerprint: string } }).hostKey.fingerprint;
      // The old machine is gone; the new one (same scenario, so the same disk) is in its rescue system.
      const r2 = await f.cli(['recover', 'web3', '--target', fresh.target, '-i', fresh.clientKeyPath, '--host-key', fresh.fingerprint, '--yes', '--confirm-disk', DISK, '--json', '--wait-timeout', '60']);
      assert.equal(r2.code, 0, r2.stderr);
      const out = JSON.parse(r2.stdout) as { mode: string; target: string; hostKey: { fingerprint: string }; ran: string[] };
      assert.equal(out.mode, 'recover');
      assert.equal(out.hostKey.fingerprint, fp);
      assert.equal(fresh.fingerprint, fp, 'the new machine presents the same host key');
      assert.ok(out.ran.includes('restore'));
      assert.match(r2.stderr, /no backups configured/);
      assert.match(readFileSync(join(f.dir, 'hosts/web3/bootstrap.toml'), 'utf8'), new RegExp(`target = "${fresh.target.replace(/\./g, '\\.')}"`));
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('fleet: four hosts in parallel, one unreachable: the summary and the exit code say which', async () => {
    const f = await makeFlake(hosts);
    const names = ['web1', 'web2', 'spare', 'new1'];
    try {
      // One operator key for the whole fleet, as in real life.
      const { execFileSync } = await import('node:child_process');
      const key = join(f.dir, '.fleet-key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      for (const n of names) {
        const h = hosts.get(n)!;
        writeFileSync(join(h.dir, 'authorized_keys'), readFileSync(join(h.dir, 'authorized_keys'), 'utf8') + readFileSync(`${key}.pub`, 'utf8'));
        const p = await f.cli(['plan', `f${n}`, '--target', h.target, '-i', key, '--host-key', h.fingerprint, '--write']);
        assert.equal(p.code, 0, p.stderr);
      }
      // fnew1 is down: its manifest points at a port nothing listens on.
      const m = join(f.dir, 'hosts/fnew1/bootstrap.toml');
      writeFileSync(m, readFileSync(m, 'utf8').replace(/target = "root@([0-9.]+)"/, 'target = "root@$1:2"'));
      const r = await f.cli(['rebuild', '--hosts', names.map((n) => `f${n}`).join(','), '--parallel', '4', '-i', key, '--json', '--wait-timeout', '60']);
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { ok: boolean; hosts: { host: string; ok: boolean; error?: { code: string }; log: string }[] };
      assert.equal(out.ok, false);
      assert.deepEqual(out.hosts.map((h) => [h.host, h.ok]), [['fweb1', true], ['fweb2', true], ['fspare', true], ['fnew1', false]], JSON.stringify(out.hosts));
      assert.match(out.hosts[3]!.error!.code, /refused|unreachable|ssh/);
      for (const h of out.hosts) assert.ok(existsSync(h.log), h.log);
      assert.match(r.stderr, /\[fweb1\] /);
      // Three hosts registered in .sops.yaml at the same time: none lost, comments kept.
      const sops = readFileSync(join(f.dir, '.sops.yaml'), 'utf8');
      for (const n of ['fweb1', 'fweb2', 'fspare']) assert.match(sops, new RegExp(`&host_${n} age1`));
      assert.match(sops, /# the operator/);
      for (const n of ['web1', 'web2', 'spare']) {
        const fp = (JSON.parse((await f.cli(['keys', 'show', `f${n}`, '--json'])).stdout) as { ssh: { fingerprint: string } }).ssh.fingerprint;
        assert.equal(hosts.get(n)!.fingerprint, fp, `${n} presents its provisioned key`);
      }
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('an encrypted install hands the LUKS passphrase to disko as a 0600 file, never in argv or output', async () => {
    const h = hosts.get('web2')!;
    const f = await makeFlake(hosts);
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'crypt1', 'encrypt = true\n').replace('/dev/vda', DISK));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r.code, 0, r.stderr);
      const disko = f.installerCalls().find((a) => a[a.indexOf('--phases') + 1] === 'disko')!;
      const at = disko.indexOf('--disk-encryption-keys');
      assert.ok(at > 0, 'disko phase got --disk-encryption-keys');
      assert.equal(disko[at + 1], '/tmp/secret.key');
      const passphrase = f.vaultSecret('hosts/crypt1/luks_passphrase');
      assert.ok(passphrase.length >= 30);
      assert.ok(!f.installerCalls().flat().includes(passphrase), 'the passphrase is not in argv');
      assert.match(readFileSync(join(f.dir, 'hosts/crypt1/disko.nix'), 'utf8'), /passwordFile = "\/tmp\/secret\.key"/);
      assert.match(readFileSync(join(f.dir, 'hosts/crypt1/bootstrap.toml'), 'utf8'), /luksPassphrase = "local:/);
      assert.ok(assertNoLeaks(f) >= 2);
    } finally {
      await f.close();
    }
  });

  test('--copy-host-keys keeps the target key: recipient derived from it, verify expects it, nothing provisioned', async () => {
    const h = hosts.get('new1')!;
    const f = await makeFlake(hosts);
    try {
      const original = h.fingerprint;
      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'keep1', 'copyHostKeys = true\n').replace('/dev/vda', DISK));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { identity: string; hostKey?: unknown };
      assert.equal(out.identity, 'copy-target-keys');
      assert.equal(out.hostKey, undefined);
      assert.equal(h.fingerprint, original, 'the host still presents its own key');
      const install = f.installerCalls().find((a) => a[a.indexOf('--phases') + 1] === 'install')!;
      assert.ok(install.includes('--copy-host-keys'));
      assert.ok(!existsSync(join(f.dir, 'secrets/bootstrap/hosts/keep1/ssh_host_ed25519_key.age')), 'no host key was made');
      assert.match(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), /&host_keep1 age1/);
      assert.match(readFileSync(join(f.dir, 'hosts/keep1/bootstrap.toml'), 'utf8'), /identity = "copy-target-keys"/);
    } finally {
      await f.close();
    }
  });

  test('with [sops] mode = "none", the host service secrets travel in the extra-files tree (0600)', async () => {
    const h = hosts.get('web2')!;
    const f = await makeFlake(hosts);
    try {
      writeFileSync(join(f.dir, 'bootstrap.toml'), readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8') + '\n[sops]\nmode = "none"\n');
      // What `bootstrap backup setup` would have stored for the host.
      const { loadConfig } = await import('../../src/config/load.js');
      const { openSecretStore } = await import('../../src/secrets/open-store.js');
      const store = await openSecretStore(await loadConfig(f.dir), { env: { ...process.env, ...f.env } });
      await store.put('hosts/plain1/restic-password', 'correct-horse-battery-staple-restic', { kind: 'password' });
      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'plain1').replace('/dev/vda', DISK));
      const treeLog = join(f.dir, '.tree.log');
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')], { FAKE_NA_TREE_LOG: treeLog });
      assert.equal(r.code, 0, r.stderr);
      const tree = readFileSync(treeLog, 'utf8');
      assert.match(tree, /^var\/lib\/bootstrap\/secrets\/restic-password 600$/m);
      assert.match(tree, /^etc\/ssh\/ssh_host_ed25519_key 600$/m);
      assert.doesNotMatch(tree, /sops-nix/, 'no sops age key without sops');
      assert.ok(assertNoLeaks(f) > 0);
      assert.ok(!f.printed.join('').includes('correct-horse-battery-staple-restic'));
    } finally {
      await f.close();
    }
  });

  test('--copy-host-keys resumed after a failed install still knows which key the host must present', async () => {
    const h = hosts.get('spare')!;
    const f = await makeFlake(hosts);
    try {
      const original = h.fingerprint;
      // No --host-key: the original key is only learned (and must be remembered) during the first run.
      const toml = answersToml(h, 'keep2', 'copyHostKeys = true\nacceptNewHostKey = true\n').replace('/dev/vda', DISK).replace(/^hostKey = .*\n/m, '');
      writeFileSync(join(f.dir, 'a.toml'), toml);
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')], { FAKE_NA_FAIL_PHASE: 'install' });
      assert.equal(r1.code, 1);
      const r2 = await f.cli(['new-host', 'keep2', '--resume', '--yes', '--confirm-disk', DISK, '-i', h.clientKeyPath]);
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(h.fingerprint, original);
      const pinned = readFileSync(join(f.dir, '.bootstrap/known_hosts'), 'utf8');
      assert.ok(pinned.includes(readFileSync(`${h.hostKeyPath}.pub`, 'utf8').split(' ')[1]!), 'the original key is pinned');
    } finally {
      await f.close();
    }
  });

  test('[sops] separateKeyPath: the independent age key travels beside the derived one, both 0600', async () => {
    const h = hosts.get('web2')!;
    const f = await makeFlake(hosts);
    try {
      writeFileSync(join(f.dir, 'bootstrap.toml'), readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8') + '\n[sops]\nseparateKeyPath = "/var/lib/sops-nix/admin-key.txt"\n');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'sep1').replace('/dev/vda', DISK));
      const treeLog = join(f.dir, '.tree.log');
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')], { FAKE_NA_TREE_LOG: treeLog });
      assert.equal(r.code, 0, r.stderr);
      const tree = readFileSync(treeLog, 'utf8');
      assert.match(tree, /^var\/lib\/sops-nix\/key\.txt 600$/m);
      assert.match(tree, /^var\/lib\/sops-nix\/admin-key\.txt 600$/m);
      assert.ok(existsSync(join(f.dir, 'secrets/bootstrap/hosts/sep1/age_key.age')), 'the independent key is kept in the vault');
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('recover restores the latest backup onto the reinstalled host and verifies it (real restic)', async () => {
    const h = hosts.get('rec')!;
    const f = await makeFlake(hosts);
    try {
      const { execFileSync } = await import('node:child_process');
      const { mkdirSync, chmodSync } = await import('node:fs');
      // The host's backups: a real restic repository with one snapshot of a small tree.
      const data = join(f.dir, '.data');
      const repo = join(f.dir, '.restic-repo');
      const sandbox = join(f.dir, '.host-root');
      mkdirSync(join(data, 'srv/app'), { recursive: true });
      mkdirSync(sandbox);
      writeFileSync(join(data, 'srv/app/db.sqlite'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
      writeFileSync(join(data, 'srv/app/config.yaml'), 'listen: 8080\n');
      const pwFile = join(f.dir, '.restic-pw');
      writeFileSync(pwFile, 'restic-test-password-0123456789', { mode: 0o600 });
      const renv = { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_FILE: pwFile, RESTIC_CACHE_DIR: join(f.dir, '.restic-cache') };
      execFileSync('restic', ['init'], { env: renv, stdio: 'ignore' });
      execFileSync('restic', ['backup', '--host', 'rec1', join(data, 'srv')], { env: renv, stdio: 'ignore' });
      // The password bootstrap keeps for the host (what `backup setup` stored).
      const { loadConfig } = await import('../../src/config/load.js');
      const { openSecretStore } = await import('../../src/secrets/open-store.js');
      const store = await openSecretStore(await loadConfig(f.dir), { env: { ...process.env, ...f.env } });
      await store.put('hosts/rec1/restic-password', 'restic-test-password-0123456789', { kind: 'password' });
      // FAKE of the restic-bootstrap wrapper NixOS builds from backup.nix: real restic on this test's
      // repository, with "/" mapped to a sandbox (the namespace shares this machine's filesystem).
      const wrapper = join(shimDirs.get('rec')!, 'restic-bootstrap');
      writeFileSync(wrapper, [
        '#!/bin/sh',
        `export RESTIC_REPOSITORY='${repo}' RESTIC_PASSWORD_FILE='${pwFile}' RESTIC_CACHE_DIR='${join(f.dir, '.restic-cache')}'`,
        'n=$#; prev=""',
        'for a in "$@"; do',
        `  if [ "$prev" = "--target" ] && [ "$a" = "/" ]; then a='${sandbox}'; fi`,
        '  set -- "$@" "$a"; prev="$a"',
        'done',
        'shift $n',
        'exec restic "$@"',
      ].join('\n') + '\n');
      chmodSync(wrapper, 0o755);

      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'rec1').replace('/dev/vda', DISK));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r1.code, 0, r1.stderr);
      const r2 = await f.cli(['recover', 'rec1', '--yes', '-i', h.clientKeyPath, '--json', '--wait-timeout', '60']);
      assert.equal(r2.code, 0, r2.stderr);
      assert.ok((JSON.parse(r2.stdout) as { ran: string[] }).ran.includes('restore'));
      assert.match(r2.stderr, /restore rec1 snapshot \w+ on the host into \/ — verified/);
      // Byte for byte what was backed up, at its original path under the host's root.
      const restored = join(sandbox, data, 'srv/app');
      assert.deepEqual(readFileSync(join(restored, 'db.sqlite')), readFileSync(join(data, 'srv/app/db.sqlite')));
      assert.equal(readFileSync(join(restored, 'config.yaml'), 'utf8'), 'listen: 8080\n');
      assert.ok(!f.printed.join('').includes('restic-test-password-0123456789'));
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('SIGINT during install: secret directory removed, journal says interrupted, lock freed', async () => {
    const h = hosts.get('spare')!;
    const f = await makeFlake(hosts);
    try {
      const { spawn } = await import('node:child_process');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(h, 'sig1').replace('/dev/vda', DISK).replace(/hostKey = .*/, `hostKey = "${h.fingerprint}"`));
      const child = spawn(process.execPath, ['--import', `${REPO_ROOT}node_modules/tsx/dist/loader.mjs`, `${REPO_ROOT}src/bin.ts`, 'new-host', '--answers', join(f.dir, 'a.toml'), '--flake', f.dir], {
        env: { ...process.env, ...f.env, NO_COLOR: '1', CI: 'true', FAKE_NA_SLOW_PHASE: 'install' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      // Wait (bounded) until the install phase is running, then interrupt.
      for (let i = 0; i < 300 && !journal0(f, 'sig1').some((e) => e.stepId === 'install' && e.status === 'started'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(f.secretDirs().length > 0, 'the secret directory exists while installing');
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      assert.equal(code, 130, err);
      assert.deepEqual(f.secretDirs(), []);
      const last = journal(f, 'sig1').at(-1)!;
      assert.deepEqual([last.stepId, last.status], ['install', 'interrupted']);
      assert.ok(!existsSync(join(f.dir, '.bootstrap/state/sig1/lock')), 'lock released');
    } finally {
      await f.close();
    }
  });
});

function journal0(f: Flake, host: string) {
  try {
    return journal(f, host);
  } catch {
    return [];
  }
}

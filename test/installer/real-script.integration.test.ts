/**
 * The REAL, unmodified nixos-anywhere.sh (shared/nix-src) installs installer-lab targets (network
 * namespaces with private /mnt, /root, /etc/ssh, …; test/helpers/installer-lab.ts): kexec, disko,
 * install, reboot in ONE call, as a user would run it, with store paths from the FAKE nix. Root
 * only. Every run is bounded (the script's own wait loops have no limit).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { createInstallerLab, makeLabFlake, type InstallerLab, type LabTarget } from '../helpers/installer-lab.js';
import { cleanupOnExit, netnsSkipReason } from '../helpers/netns.js';
import { fingerprintOfPub } from '../helpers/sshd.js';

const skip = netnsSkipReason();
const PHASES = ['### Switching system into kexec ###', '### Formatting hard drive with disko ###', '### Installing NixOS ###', '### Rebooting ###'];

interface Run { code: number | null; stdout: string; stderr: string; ms: number; timedOut: boolean }

/** Run a command in its own process group; on timeout (or if this process is stopped) kill the whole group. */
function run(argv: string[], env: Record<string, string | undefined>, timeoutMs = 120_000): Promise<Run> {
  const started = Date.now();
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: full, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
    const cancel = cleanupOnExit(killGroup);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); cancel(); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup(); // whatever it left running in its group
      cancel();
      resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

describe('the real nixos-anywhere.sh against installer-lab targets', { skip: skip ?? false }, () => {
  let lab: InstallerLab;
  const work = mkdtempSync(join(tmpdir(), 'nb-real-na-'));
  const flake = join(work, 'flake');
  const home = join(work, 'home');
  const tmp = join(work, 'tmp');
  let disko = '';
  let toplevel = '';
  const timings: Record<string, number> = {};

  /**
   * The environment of a plain user's shell: the lab's PATH, an empty HOME, no ssh agent, and a
   * TMPDIR of this test (the script copies the identity key into its mktemp dir there).
   */
  const userEnv = (extra: Record<string, string> = {}) => ({ ...lab.env, HOME: home, TMPDIR: tmp, SSH_AUTH_SOCK: undefined, ...extra });
  const nixosAnywhere = async (name: string, args: string[], extra: Record<string, string> = {}) => {
    const r = await run(['nixos-anywhere', '--store-paths', disko, toplevel, ...args], userEnv(extra));
    timings[name] = r.ms;
    const out = `${r.stdout}\n--- stderr ---\n${r.stderr}`;
    assert.equal(r.timedOut, false, `nixos-anywhere did not finish in time:\n${out}`);
    assert.equal(r.code, 0, out);
    assert.deepEqual(readdirSync(tmp), [], 'the script removed its temp dir (with the key copy)');
    return r;
  };
  const rootKeys = (t: LabTarget) => readFileSync(join(t.dir.root, '.ssh/authorized_keys'), 'utf8');
  /** ssh as root with the host key pinned to `pub` (StrictHostKeyChecking=yes): proves which key sshd presents. */
  const sshPinned = async (t: LabTarget, pub: string, identity: string, cmd: string) => {
    const kh = join(work, `${t.name}-known_hosts`);
    writeFileSync(kh, `${t.port === 22 ? t.ip : `[${t.ip}]:${t.port}`} ${pub.trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
    return run(['ssh', '-p', String(t.port), '-i', identity, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${kh}`,
      '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10', `root@${t.ip}`, cmd], { HOME: home }, 20_000);
  };
  const assertInstalled = (t: LabTarget) => {
    const s = t.state();
    assert.equal(s.diskoRan, true, 'the disko script ran on the target');
    assert.equal(s.installed, toplevel, 'nixos-install installed the closure');
    assert.equal(readFileSync(join(t.dir.mnt, toplevel, 'system'), 'utf8').trim(), 'x86_64-linux', 'the closure is under /mnt');
    assert.ok(existsSync(join(t.dir.store, basename(disko))), 'the disko script went to the installer store');
  };

  before(async () => {
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(tmp, { mode: 0o700 });
    mkdirSync(flake);
    makeLabFlake(flake, { web1: 'hetzner-cloud-x86' });
    lab = await createInstallerLab();
    const attr = (a: string) => `${flake}#nixosConfigurations."web1".config.system.build.${a}`;
    const b = await run(['nix', '--extra-experimental-features', 'nix-command flakes', 'build', '--no-link', '--json', attr('diskoScript'), attr('toplevel')], userEnv(), 30_000);
    assert.equal(b.code, 0, b.stderr);
    const outs = (JSON.parse(b.stdout) as Array<{ outputs: { out: string } }>).map((o) => o.outputs.out);
    [disko, toplevel] = outs as [string, string];
  });
  after(async () => {
    await lab?.teardown();
    rmSync(work, { recursive: true, force: true });
    if (Object.keys(timings).length) console.log(`real nixos-anywhere durations (ms): ${JSON.stringify(timings)}`);
  });

  test('plain: root@IP with -i and --extra-files: kexec, disko, install, reboot into the provisioned host key', async (t) => {
    const target = await lab.addTarget();
    const extra = join(work, 'extra-plain');
    mkdirSync(join(extra, 'etc/ssh'), { recursive: true });
    const key = join(extra, 'etc/ssh/ssh_host_ed25519_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provisioned', '-f', key]);
    const before = lab.nixCalls().length;
    const r = await nixosAnywhere('plain', ['--target-host', target.target, '-i', target.clientKeyPath, '--extra-files', extra]);
    for (const line of PHASES) assert.ok(r.stdout.split('\n').includes(line), `missing ${line}`);
    await target.waitFor((s) => s.reboots === 1);
    const s = target.state();
    assert.equal(s.kexecs, 1);
    assert.equal(s.reboots, 1);
    assert.equal(s.phase, 'installed');
    assertInstalled(target);
    const files = new Map(target.mntFiles().map((f) => [f.path, f]));
    assert.equal(files.get('/mnt/etc/ssh/ssh_host_ed25519_key')?.mode, '600');
    assert.equal(files.get('/mnt/etc/ssh/ssh_host_ed25519_key.pub')?.mode, '644');
    // After the reboot sshd presents the provisioned key, on the installed port, as the installed system.
    const pub = readFileSync(`${key}.pub`, 'utf8');
    assert.equal(target.port, 22);
    assert.equal(target.fingerprint, fingerprintOfPub(pub));
    const login = await sshPinned(target, pub, target.clientKeyPath, 'cat /etc/os-release');
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /^ID=nixos$/m);
    assert.doesNotMatch(login.stdout, /VARIANT_ID/);
    const calls = lab.nixCalls().slice(before);
    assert.deepEqual(calls.map((c) => c.kind), ['config', 'config', 'copy', 'copy']);
    t.diagnostic(`nix calls: ${JSON.stringify(calls.map((c) => c.argv))}`);
    t.diagnostic(`${timings.plain} ms`);
  });

  test('port 2222 with -p 2222 (the installer listens on 22), --copy-host-keys and a disk key', async (t) => {
    const target = await lab.addTarget({ port: 2222 });
    const original = target.hostPub;
    const secret = join(work, 'luks.key');
    writeFileSync(secret, 'correct horse battery staple', { mode: 0o600 });
    await nixosAnywhere('port2222', ['--target-host', target.target, '-p', '2222', '-i', target.clientKeyPath, '--copy-host-keys',
      '--disk-encryption-keys', '/tmp/secret.key', secret]);
    await target.waitFor((s) => s.reboots === 1);
    assert.deepEqual([target.state().kexecs, target.state().reboots], [1, 1]);
    assertInstalled(target);
    assert.equal(readFileSync(join(target.dir.mnt, '.disko-key'), 'utf8').trim(), '600 28', 'the disk key was in /tmp with mode 600 when disko ran');
    assert.equal(target.port, 2222, 'the installed system listens on its port again');
    assert.equal(target.hostPub, original, '--copy-host-keys kept the target key');
    const login = await sshPinned(target, original, target.clientKeyPath, 'true');
    assert.equal(login.code, 0, login.stderr);
    t.diagnostic(`${timings.port2222} ms`);
  });

  test('nixos@IP on a machine that already is a NixOS installer: no kexec, the key is copied to root (reboot sleep 1 s)', async (t) => {
    const target = await lab.addTarget({ login: 'nixos-installer', rebootSleepSeconds: 1 });
    assert.equal(existsSync(join(target.dir.root, '.ssh/authorized_keys')), false);
    const r = await nixosAnywhere('nixos-installer', ['--target-host', target.target, '-i', target.clientKeyPath]);
    assert.ok(!r.stdout.includes(PHASES[0]!), 'no kexec on an installer');
    await target.waitFor((s) => s.reboots === 1);
    assert.deepEqual([target.state().kexecs, target.state().reboots], [0, 1]);
    assertInstalled(target);
    assert.equal(rootKeys(target), readFileSync(`${target.clientKeyPath}.pub`, 'utf8'), 'the script copied nixos\'s authorized_keys to root');
    t.diagnostic(`${timings['nixos-installer']} ms`);
  });

  test('root with a password (--env-password, SSHPASS): ssh-copy-id installs a temporary key', async (t) => {
    const target = await lab.addTarget({ login: 'root-password', rootPassword: 'lab-pw-1234' });
    await nixosAnywhere('root-password', ['--target-host', target.target, '--env-password'], { SSHPASS: 'lab-pw-1234' });
    await target.waitFor((s) => s.reboots === 1);
    assert.deepEqual([target.state().kexecs, target.state().reboots], [1, 1]);
    assertInstalled(target);
    assert.match(rootKeys(target), /^ssh-ed25519 \S+ nixos-anywhere$/m, 'the temporary key of the run');
    t.diagnostic(`${timings['root-password']} ms`);
  });
});

describe('the installer lab\'s test switches with the real script', { skip: skip ?? false }, () => {
  test('nb-lab-fail-disko survives kexec, fails disko once; a second call for disko,install,reboot completes', async () => {
    const lab = await createInstallerLab();
    const work = mkdtempSync(join(tmpdir(), 'nb-real-na-'));
    try {
      const flake = join(work, 'flake');
      mkdirSync(flake);
      makeLabFlake(flake, { web1: 'hetzner-cloud-x86' });
      const env = { ...lab.env, HOME: work, TMPDIR: work, SSH_AUTH_SOCK: undefined };
      const attr = (a: string) => `${flake}#nixosConfigurations."web1".config.system.build.${a}`;
      const b = await run(['nix', 'build', '--no-link', '--print-out-paths', attr('diskoScript'), attr('toplevel')], env, 30_000);
      assert.equal(b.code, 0, b.stderr);
      const [disko, toplevel] = b.stdout.trim().split('\n') as [string, string];
      const t = await lab.addTarget();
      writeFileSync(join(t.dir.tmp, 'nb-lab-fail-disko'), '');
      const args = ['--store-paths', disko, toplevel, '--target-host', t.target, '-i', t.clientKeyPath];
      const r1 = await run(['nixos-anywhere', ...args], env);
      assert.equal(r1.timedOut, false);
      assert.equal(r1.code, 1, r1.stdout + r1.stderr);
      assert.match(r1.stderr, /fake disko: failing once/);
      assert.deepEqual([t.state().phase, t.state().kexecs, t.state().diskoRan, t.port], ['installer', 1, false, 22]);
      const r2 = await run(['nixos-anywhere', ...args, '--phases', 'disko,install,reboot'], env);
      assert.equal(r2.code, 0, r2.stdout + r2.stderr);
      await t.waitFor((s) => s.reboots === 1);
      assert.deepEqual([t.state().phase, t.state().kexecs, t.state().diskoRan, t.state().installed], ['installed', 1, true, toplevel]);
    } finally {
      await lab.teardown();
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('the FAKE nix is strict', () => {
  const nix = join(REPO_ROOT, 'test/fakes/nix');
  const X = ['--extra-experimental-features', 'nix-command flakes'];
  const withFlake = async (fn: (flake: string, store: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'nb-fake-nix-'));
    try {
      mkdirSync(join(dir, 'flake'));
      mkdirSync(join(dir, 'store'));
      makeLabFlake(join(dir, 'flake'), { web1: 'hetzner-cloud-x86' });
      await fn(join(dir, 'flake'), join(dir, 'store'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const sh = (args: string[], env: Record<string, string> = {}) => run([nix, ...args], env, 20_000);

  test('disk devices come from a real evaluation; a missing host or disko import fails like nix', () => withFlake(async (flake) => {
    const apply = ['--apply', 'builtins.mapAttrs (_: d: d.device)'];
    const ok = await sh([...X, 'eval', '--json', `${flake}#nixosConfigurations."web1".config.disko.devices.disk`, ...apply]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { main: '/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_12345678' });
    const missing = await sh([...X, 'eval', '--json', `${flake}#nixosConfigurations."nope".config.disko.devices.disk`, ...apply]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), `error: flake 'path:${flake}' does not provide attribute 'nixosConfigurations.nope'`);
    writeFileSync(join(flake, 'hosts/web1/default.nix'), '{ ... }: { imports = [ ./hardware.nix ]; }\n');
    const noDisko = await sh([...X, 'eval', '--json', `${flake}#nixosConfigurations.web1.config.disko.devices.disk`, ...apply]);
    assert.equal(noDisko.code, 1);
    assert.match(noDisko.stderr, /error: attribute 'disko' missing/);
  }));

  test('a build fails on a syntax error (real nix-instantiate message) and with FAKE_NIX_BUILD_FAIL; unknown calls fail', () => withFlake(async (flake, store) => {
    const env = { FAKE_NIX_STORE: store };
    const top = `${flake}#nixosConfigurations."web1".config.system.build.toplevel`;
    const good = await sh([...X, 'build', '--print-out-paths', '--no-link', top], env);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout.trim(), new RegExp(`^${store}/[0-9a-df-np-sv-z]{32}-nixos-system-web1-25\\.05$`));
    const failed = await sh([...X, 'build', '--print-out-paths', '--no-link', top], { ...env, FAKE_NIX_BUILD_FAIL: '1' });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^error: builder for '\/nix\/store\/\S+-nixos-system-web1-25\.05\.drv' failed with exit code 1$/m);
    writeFileSync(join(flake, 'hosts/web1/default.nix'), '{ imports = [ ./disko.nix ; }\n');
    const broken = await sh([...X, 'build', '--print-out-paths', '--no-link', top], env);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /error: syntax error/);
    for (const args of [['eval', '--raw', `${flake}#nixosConfigurations."web1".config.networking.hostName`], ['build', top], ['flake', 'show'], ['config', 'show', 'substituters']]) {
      const r = await sh([...X, ...args], env);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^fake nix: unsupported call: /);
    }
  }));
});

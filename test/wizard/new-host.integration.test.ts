/**
 * The new-host wizard as a person uses it (issue 11 item 8): a real terminal (tmux), a real probe
 * of this machine through a loopback sshd. Nothing is ever installed: every case stops at the
 * review, at the confirmation, or (the one that confirms) with Ctrl-C while `nix` (a shim that
 * only sleeps) holds preflight; a nixos-anywhere shim fails if anything got that far.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { makeTempDir } from '../helpers/tmp.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import { startTmuxCli, type TmuxCli } from '../helpers/tmux.js';
import { REPO_ROOT } from '../helpers/cli.js';

let sshd: Sshd;
let tmp: { dir: string; cleanup: () => Promise<void> };
let n = 0;

before(async () => {
  sshd = await startSshd();
  tmp = await makeTempDir('nb-wizard-');
  const shims = join(tmp.dir, 'shims');
  mkdirSync(shims);
  // The plan's check that flake.nix picks up the host (`nix eval --offline`) is answered by the fake nix.
  writeFileSync(join(shims, 'nix'), `#!/bin/sh\ncase " $* " in *" --offline "*) exec ${join(REPO_ROOT, 'test/fakes/nix')} "$@" ;; esac\nsleep 60\n`);
  writeFileSync(join(shims, 'nixos-anywhere'), '#!/bin/sh\necho "nixos-anywhere must not run in this test" >&2\nexit 1\n');
  chmodSync(join(shims, 'nix'), 0o755);
  chmodSync(join(shims, 'nixos-anywhere'), 0o755);
});
after(async () => {
  await sshd?.stop();
  await tmp?.cleanup();
});

function newFlake(): string {
  const dir = join(tmp.dir, `flake${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'flake.nix'), '{ outputs = { ... }: { }; }\n');
  return dir;
}

function wizard(flake: string, extra: string[] = []): TmuxCli {
  const home = join(tmp.dir, `home${n}`);
  // The operator's own age key (the default local vault encrypts to it), so an accepted install
  // gets past the keys step and holds in preflight instead of failing there.
  mkdirSync(join(home, '.config/sops/age'), { recursive: true });
  execFileSync('age-keygen', ['-o', join(home, '.config/sops/age/keys.txt')], { stdio: 'ignore' });
  return startTmuxCli(`nb-wizard-${process.pid}-${n}`, ['new-host', '--flake', flake, '-i', sshd.clientKeyPath, '--host-key', sshd.fingerprint, ...extra], {
    HOME: home,
    SSH_AUTH_SOCK: '',
    PATH: `${join(tmp.dir, 'shims')}:${process.env.PATH}`,
  });
}

/** The flake's tree without the probe's host key pin (.bootstrap/known_hosts, written before any question about the disk). */
const withoutPin = (dir: string) => snapshotTree(dir).filter((e) => !e.path.startsWith('.bootstrap'));

test('every question answered: the layout names its default, swap is in GiB like the plan; back from the layout question; change an answer at the review; quit', async () => {
  const flake = newFlake();
  const before = withoutPin(flake);
  const t = wizard(flake);
  try {
    await t.answer(/\? Host name/, 'web1');
    await t.answer(/\? Target machine/, sshd.target);
    await t.answer(/\? Public key that may log in as root/, '');
    await t.waitFor(/\? No hardware profile matches this machine/);
    await t.waitFor(/❯ amd-laptop/);
    t.type('Down', 'Down', 'Down', 'Down'); // generic-kvm-vps
    await t.waitFor(/❯ generic-kvm-vps/);
    t.type('Enter');
    // The layout question names this machine's default and where it comes from.
    let s = await t.waitFor(/\? Disk layout, default for this machine: single-ext4 \(profile generic-kvm-vps\)/);
    assert.match(s, /single-ext4 {2}\(default\)/);
    // Back: the profile question again, with the earlier answer selected.
    t.type('Down', 'Down');
    await t.waitFor(/❯ ← back/);
    t.type('Enter');
    await t.waitFor(/❯ generic-kvm-vps[\s\S]*$/);
    s = await t.waitFor(/Disk layout[^\n]*: ← back\n[\s\S]*\? No hardware profile matches/);
    t.type('Enter');
    await t.waitFor(/\? Disk layout, default[^\n]*\n❯ single-ext4/);
    t.type('Down');
    await t.waitFor(/❯ single-btrfs/);
    t.type('Enter');
    await t.answer(/\? Encrypt the disk with LUKS[^\n]*\n❯ no \(single-btrfs\)/, ''); // no
    s = await t.waitFor(/\? Swap size[^\n]*default for [\d.]+ GiB of memory: ([\d.]+ GiB|none)\)/);
    const swapDefault = /of memory: ([\d.]+ GiB|none)\)/.exec(s)![1]!;
    await t.answer(/\? Swap size/, '');
    // Subvolumes: a bad one is refused at the prompt, like --subvolume.
    await t.answer(/\? Extra btrfs subvolumes/, 'home');
    await t.waitFor(/subvolume "home" is always created/);
    t.type('C-u');
    await t.answer(/\? Extra btrfs subvolumes/, 'containers');
    s = await t.waitFor(/\? Install with these answers\?/);
    // The plan: the same unit as the prompt, the secret store, the recipient edits, the flake wiring, the login key.
    assert.match(s, new RegExp(`layout   single-btrfs \\([^)]*swap ${swapDefault === 'none' ? 'none' : swapDefault.replace('.', '\\.')}[^)]*subvolumes containers\\)`));
    assert.match(s, /secrets  local age vault secrets\/bootstrap\//);
    assert.match(s, /recipients \.sops\.yaml is created: keys &host_web1/);
    assert.match(s, /flake    flake\.nix does not pick up hosts\/web1 yet/);
    assert.match(s, /login    root with SHA256:/);
    assert.doesNotMatch(s, /\bGB\b/);

    // Change an answer: swap to 2G; the plan is made again.
    t.type('Down');
    await t.waitFor(/❯ change an answer/);
    t.type('Enter');
    await t.waitFor(/\? Which answer\?[\s\S]*swap: /);
    for (let i = 0; i < 6; i++) t.type('Down'); // host, target, login, profile, layout, encryption, swap
    await t.waitFor(/❯ swap: /);
    t.type('Enter');
    await t.answer(/\? Swap size/, '2G');
    s = await t.waitFor(/swap 2\.0 GiB[\s\S]*\? Install with these answers\?/);

    t.type('Down', 'Down');
    await t.waitFor(/❯ quit/);
    t.type('Enter');
    assert.equal(await t.exitCode(), 130, t.screen());
    assert.match(t.screen(), /stopped at the review: nothing was changed/);
    assert.deepEqual(withoutPin(flake), before, 'nothing was written');
  } finally {
    t.kill();
  }
});

test('a mistyped confirmation keeps every answer: asked again, then accepted; Ctrl-C during the run exits 130', async () => {
  const flake = newFlake();
  const before = withoutPin(flake);
  const t = wizard(flake, ['web1', '--target', sshd.target, '--profile', 'generic-kvm-vps', '--layout', 'single-ext4', '--swap', '1G']);
  try {
    await t.answer(/\? Public key that may log in as root/, '');
    await t.answer(/\? Install with these answers\?/, '');
    await t.waitFor(/This ERASES \/dev\/\S+ \([\d.]+ GiB\)/);
    await t.answer(/\? Type the host name \(web1\) to continue/, 'wbe1');
    await t.waitFor(/"wbe1" is not web1; nothing was changed\. Try again \(2 tries left\)/);
    assert.deepEqual(withoutPin(flake), before, 'nothing written by the mistyped confirmation');
    await t.answer(/\? Type the host name \(web1\) to continue:\s*$/, 'web1');
    // Accepted: the install starts (the host files are the first thing it writes, then the keys),
    // and holds in preflight on the sleeping nix shim, long before the target.
    await t.waitFor(/✔ write the host files into the flake[\s\S]*✔ create or reuse the host's keys[\s\S]*build the system and check the flake/, 'preflight', 300);
    t.type('C-c');
    assert.equal(await t.exitCode(), 130, t.screen());
    assert.doesNotMatch(t.screen(), /nixos-anywhere must not run/);
    assert.ok(existsSync(join(flake, 'hosts/web1/disko.nix')), 'the host files are written after the confirmation, by design');
  } finally {
    t.kill();
  }
});

test('three mistyped confirmations go back to the review, not out of the wizard', async () => {
  const flake = newFlake();
  const t = wizard(flake, ['web1', '--target', sshd.target, '--profile', 'generic-kvm-vps', '--layout', 'single-ext4', '--swap', '0', '--login-key', `${sshd.clientKeyPath}.pub`]);
  try {
    await t.answer(/\? Install with these answers\?/, '');
    for (const typo of ['web2', 'web', 'WEB1']) await t.answer(/\? Type the host name \(web1\) to continue:\s*$/, typo);
    await t.waitFor(/"WEB1" is not web1; nothing was changed\. Back to the review\.\n\? Install with these answers\?/);
    t.type('C-c');
    assert.equal(await t.exitCode(), 130, t.screen());
    assert.match(t.screen(), /nothing was changed/);
  } finally {
    t.kill();
  }
});

test('Ctrl-C at the first prompt exits 130, says nothing was changed, and leaves the flake as it was', async () => {
  const flake = newFlake();
  const before = snapshotTree(flake);
  const t = wizard(flake);
  try {
    await t.waitFor(/\? Host name/);
    t.type('C-c');
    assert.equal(await t.exitCode(), 130, t.screen());
    assert.match(t.screen(), /cancelled at the prompt: nothing was changed/);
    assert.deepEqual(snapshotTree(flake), before);
  } finally {
    t.kill();
  }
});

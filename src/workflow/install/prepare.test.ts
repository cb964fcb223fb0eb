/**
 * The dry run shows what a run would do, touching nothing: the disks it would wipe, the steps in
 * order, the preflight build and the one installer call. The text and the --json document come
 * from one planDryRun, so they must agree; each answer that changes the call must show in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadReport } from '../../../test/helpers/reports.js';
import { ConfigSchema } from '../../config/schema.js';
import type { HardwareReport } from '../../probe/report.js';
import { loadProfiles } from '../../profiles/load.js';
import { buildHostPlan } from '../../render/plan.js';
import { parseTarget } from '../../ssh/target.js';
import type { InstallAnswers } from './answers.js';
import type { IdentityMode } from './context.js';
import { buildDryRunJson, buildDryRunText, buildPlanAnswers, planDryRun, type PreparedInstall } from './prepare.js';
import { INSTALL_STEPS } from './run-install.js';

const profiles = await loadProfiles();
const NO_TOOLS = { PATH: '/nonexistent' }; // neither nixos-anywhere nor nix: the argv starts with "nixos-anywhere"

function prepared(o: { report?: HardwareReport; answers?: InstallAnswers; identity?: IdentityMode; host?: string; target?: string; passwordEnv?: string } = {}): PreparedInstall {
  const report = o.report ?? loadReport('hetzner-dedicated-2nvme');
  const answers = o.answers ?? {};
  const target = parseTarget(o.target ?? 'root@203.0.113.7');
  const identity = o.identity ?? 'provisioned';
  const host = o.host ?? 'db1';
  const plan = buildHostPlan({ host, report, answers: buildPlanAnswers(answers, target, identity), profiles });
  return {
    mode: 'new-host', flakeDir: '/flake', host, target, report, plan, entries: [], answers, identity,
    loaded: { flakeDir: '/flake', file: '/flake/bootstrap.toml', exists: false, config: ConfigSchema.parse({}) },
    ssh: { hostKeys: { mode: 'pinned' } as never, ...(o.passwordEnv ? { passwordEnv: o.passwordEnv } : {}) },
    login: { keys: [], from: 'none' } as never,
  };
}

const argvAfter = (argv: readonly string[], flag: string) => argv[argv.indexOf(flag) + 1];

test('text and --json show the same wipe, steps, preflight build and installer call', () => {
  const p = prepared({ answers: { disk: 'nvme0n1', encrypt: true } });
  const text = buildDryRunText(p, INSTALL_STEPS, NO_TOOLS);
  const json = buildDryRunJson(p, INSTALL_STEPS, NO_TOOLS);
  const disk = '/dev/disk/by-id/nvme-SAMSUNG_MZVL2512HCJQ-00B00_S675NX0T123456';

  assert.equal(json.dryRun, true);
  assert.deepEqual(json.wipe.disks.map((d) => d.byId), [disk]);
  assert.match(json.wipe.description, new RegExp(`^This ERASES ${disk} \\(476\\.9 GiB, .*serial S675NX0T123456\\) on root@203\\.0\\.113\\.7 and installs NixOS host db1\\.$`));
  assert.ok(text.includes(json.wipe.description), 'the text names the same wipe');

  // The steps in run order, each on its own line of the text.
  assert.deepEqual(json.steps.map((s) => s.id), INSTALL_STEPS.map((s) => s.id));
  const stepLines = text.slice(text.indexOf('Steps:')).split('\n').slice(1, 1 + INSTALL_STEPS.length);
  assert.deepEqual(stepLines.map((l) => l.trim().split(/\s+/)[0]), INSTALL_STEPS.map((s) => s.id));

  assert.ok(text.includes(`  ${json.preflight.argv.join(' ')}\n`), 'the preflight command in the text');
  assert.ok(text.includes(`  ${json.installer.argv.join(' ')}\n`), 'the installer command in the text');
  assert.equal(json.installer.argv[0], 'nixos-anywhere');
  assert.deepEqual(json.installer.phases, ['kexec', 'disko', 'install', 'reboot']);
  assert.equal(argvAfter(json.installer.argv, '--phases'), 'kexec,disko,install,reboot');
  assert.deepEqual(json.changed, { filesWritten: 0, keysMade: 0, targetTouched: 'probed only' });
  assert.match(text, /\nDry run: nothing was written, no key was made, the target was only probed\.$/);
});

test('a local build: preflight builds both store paths, the installer is handed them, never the flake', () => {
  const d = planDryRun(prepared(), INSTALL_STEPS, NO_TOOLS);
  assert.equal(d.preflight.buildOn, 'local');
  assert.equal(d.preflight.argv[3], 'build');
  assert.ok(d.preflight.argv.some((a) => a.endsWith('config.system.build.toplevel')));
  assert.deepEqual(d.installer.argv.slice(1, 4), ['--store-paths', '$DISKO', '$TOPLEVEL']);
  assert.ok(!d.installer.argv.includes('--flake'));
  assert.ok(!d.installer.argv.includes('--build-on'));
});

test('--build-on remote: preflight only evaluates, the installer builds from the flake on the target', () => {
  const d = planDryRun(prepared({ answers: { buildOn: 'remote', noDiskoDeps: true } }), INSTALL_STEPS, NO_TOOLS);
  assert.equal(d.preflight.buildOn, 'remote');
  assert.equal(d.preflight.argv[3], 'eval');
  assert.match(d.preflight.argv.at(-1)!, /diskoScriptNoDeps\.drvPath/);
  assert.equal(argvAfter(d.installer.argv, '--flake'), '/flake#db1');
  assert.equal(argvAfter(d.installer.argv, '--build-on'), 'remote');
  assert.ok(d.installer.argv.includes('--no-disko-deps'));
  assert.ok(!d.installer.argv.includes('--store-paths'));
});

test('encryption hands the installer the key file; without it there is none', () => {
  const enc = planDryRun(prepared({ answers: { disk: 'nvme0n1', encrypt: true } }), INSTALL_STEPS, NO_TOOLS);
  const i = enc.installer.argv.indexOf('--disk-encryption-keys');
  assert.deepEqual(enc.installer.argv.slice(i + 1, i + 3), ['/tmp/secret.key', '$SECRET_DIR/disk-encryption.key']);
  const plain = planDryRun(prepared({ answers: { disk: 'nvme0n1', layout: 'single-ext4' } }), INSTALL_STEPS, NO_TOOLS);
  assert.ok(!plain.installer.argv.includes('--disk-encryption-keys'));
  assert.equal(argvAfter(plain.installer.argv, '--extra-files'), '$SECRET_DIR/extra-files');
});

test('a two-disk layout names both disks in the wipe', () => {
  const p = prepared({ answers: { layout: 'btrfs-raid1' } });
  const json = buildDryRunJson(p, INSTALL_STEPS, NO_TOOLS);
  assert.deepEqual(json.wipe.disks.map((d) => d.serial), ['S675NX0T123456', 'S675NX0T654321']);
  assert.match(json.wipe.description, /ERASES \S+S675NX0T123456 .* and \S+S675NX0T654321 /);
});

test('--copy-host-keys, a target port, a post-kexec port and a password show in the installer call', () => {
  const p = prepared({ identity: 'copy-target-keys', target: 'admin@198.51.100.9:2222', answers: { disk: 'nvme0n1', postKexecPort: 2200 }, passwordEnv: 'SSHPASS' });
  const d = planDryRun(p, INSTALL_STEPS, NO_TOOLS);
  assert.ok(d.installer.argv.includes('--copy-host-keys'));
  assert.ok(d.installer.argv.includes('--env-password'));
  assert.equal(argvAfter(d.installer.argv, '--target-host'), 'admin@198.51.100.9');
  assert.equal(d.wipe.target, 'admin@198.51.100.9:2222');
  assert.ok(d.installer.argv.join(' ').includes('2200'), 'the kexec installer port is passed');
});

test('the kexec image route shows in the installer call: the local file, or for url/cache the verifying tarball', () => {
  const sha = 'a'.repeat(64);
  const none = planDryRun(prepared(), INSTALL_STEPS, NO_TOOLS);
  assert.equal(none.installer.argv.includes('--kexec'), false, "upstream's default image: no --kexec");
  const local = planDryRun(prepared({ answers: { kexecImage: '/srv/k.tar.gz', kexecSha256: sha } }), INSTALL_STEPS, NO_TOOLS);
  assert.equal(argvAfter(local.installer.argv, '--kexec'), '/srv/k.tar.gz');
  for (const answers of [{ kexecUrl: 'https://images.example/k.tar.gz', kexecSha256: sha }, { kexecFrom: 'cache' as const, kexecSha256: sha }]) {
    const d = planDryRun(prepared({ answers }), INSTALL_STEPS, NO_TOOLS);
    assert.equal(argvAfter(d.installer.argv, '--kexec'), '$SECRET_DIR/kexec-verified.tar');
  }
});

test('time limits: the defaults, and a --phase-timeout for one phase', () => {
  const def = buildDryRunJson(prepared(), INSTALL_STEPS, NO_TOOLS);
  assert.deepEqual(Object.keys(def.timeLimits), ['kexec', 'disko', 'install', 'reboot']);
  assert.deepEqual(def.timeLimits.install, { ms: 90 * 60_000, text: '90 min' });
  const longer = buildDryRunJson(prepared({ answers: { phaseTimeouts: { install: '2h' } } }), INSTALL_STEPS, NO_TOOLS);
  assert.deepEqual(longer.timeLimits.install, { ms: 2 * 3600_000, text: '2.0 h' });
  assert.deepEqual(longer.timeLimits.kexec, def.timeLimits.kexec);
  assert.match(buildDryRunText(prepared({ answers: { phaseTimeouts: { install: '2h' } } }), INSTALL_STEPS, NO_TOOLS), /Time limits: kexec 15 min, disko 20 min, install 2\.0 h, reboot 10 min\./);
});

test('nixos-anywhere on PATH is the command the dry run shows', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(`${tmpdir()}/nb-na-`);
  try {
    await writeFile(`${dir}/nixos-anywhere`, '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(planDryRun(prepared(), INSTALL_STEPS, { PATH: dir }).installer.argv[0], `${dir}/nixos-anywhere`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('plan answers: only what was answered, the size parsed, the target and identity always', () => {
  const t = parseTarget('root@203.0.113.7:2222');
  assert.deepEqual(buildPlanAnswers({}, t, 'provisioned'), { target: 'root@203.0.113.7:2222', identity: 'provisioned' });
  const a = buildPlanAnswers({ swap: '512M', encrypt: false, hibernate: false, phaseTimeouts: { install: 7200 }, postKexecPort: 2200, host: 'web1', yes: true }, t, 'copy-target-keys');
  assert.deepEqual(a, { swap: 512 * 1024 ** 2, hibernate: false, encrypt: false, target: 'root@203.0.113.7:2222', identity: 'copy-target-keys', postKexecPort: 2200, phaseTimeouts: { install: '7200' } });
});

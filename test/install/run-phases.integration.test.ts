/**
 * runInstallPhase(s) against the FAKE nixos-anywhere (test/fakes/nixos-anywhere) on PATH: the real
 * step lines drive progress, the log is written 0600 and redacted, a failing phase is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Output, type Task } from '../../src/cli/ui.js';
import { systemClock } from '../../src/context.js';
import { CommandFailed, runCommand } from '../../src/exec/run.js';
import { withSecretDir, writeExtraFiles } from '../../src/install/extra-files.js';
import { buildLogPath, openInstallLog, PhaseFailed, runInstallPhase, runInstallPhases, type PhaseRun } from '../../src/install/run-phases.js';
import { locateNixosAnywhere, type NixosAnywhereOptions } from '../../src/nix/nixos-anywhere.js';
import { registerSecret } from '../../src/redact.js';
import { parseTarget } from '../../src/ssh/target.js';
import { withTempDir } from '../helpers/tmp.js';

const FAKES = fileURLToPath(new URL('../fakes', import.meta.url));
const PRIV = '-----BEGIN OPENSSH PRIVATE KEY-----\nrun-phases-private-key-material-0123456789abcdef\n-----END OPENSSH PRIVATE KEY-----\n';
const LUKS = 'run-phases-luks-passphrase';
const TOKEN = 'ghp_runPhasesTokenThatMustNotLeak123';

function capture() {
  const lines: string[] = [];
  const w = { write: (t: string) => void lines.push(t) };
  return { out: new Output(w, w, { color: false }), text: () => lines.join('') };
}

function recordingTask(updates: string[]): Task {
  return { update: (d) => void updates.push(d), done: () => {}, fail: () => {} };
}

async function withInstallSetup(fn: (s: { flake: string; run: PhaseRun; options: NixosAnywhereOptions; extraFilesDir: string; argvLog: string }) => Promise<void>, extraEnv: Record<string, string> = {}) {
  await withTempDir(async (flake) => {
    await withSecretDir(async (dir) => {
      const files = await writeExtraFiles(dir, {
        hostKey: { privateKey: PRIV, publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRunPhases web1' },
        ageKey: { path: '/var/lib/sops-nix/key.txt', identity: 'AGE-SECRET-KEY-1RUNPHASESRUNPHASESRUNPHASESRUNPHASESRUNPHASESRUNPHASES' },
        luksPassphrase: LUKS,
      });
      const env = { PATH: `${FAKES}:${process.env.PATH}` };
      const command = locateNixosAnywhere(env);
      assert.equal(command.prefix[0], `${FAKES}/nixos-anywhere`);
      const options: NixosAnywhereOptions = {
        flake,
        host: 'web1',
        target: parseTarget('root@127.0.0.1:2222'),
        extraFilesDir: files.extraFilesDir,
        diskEncryptionKeys: [{ remotePath: '/tmp/secret.key', localPath: files.diskEncryptionKeyFile! }],
        knownHostsFile: `${flake}/.bootstrap/known_hosts`,
        buildOn: 'local',
        hardwareConfig: { backend: 'nixos-facter', path: `${flake}/facter.json` },
      };
      const argvLog = `${flake}/argv.jsonl`;
      const log = openInstallLog(buildLogPath(flake, 'web1', new Date('2026-07-22T07:18:28.123Z')));
      try {
        await fn({ flake, options, extraFilesDir: files.extraFilesDir, argvLog, run: { command, options, log, env: { ...env, FAKE_NA_ARGV_LOG: argvLog, FAKE_NA_STATE: `${flake}/fake-state.json`, ...extraEnv } } });
      } finally {
        log.close();
      }
    }, { env: process.env });
  });
}

test('all four phases: real step lines drive progress; log is 0600, complete and redacted', async () => {
  registerSecret(TOKEN);
  await withInstallSetup(async ({ flake, run, argvLog }) => {
    const { out, text } = capture();
    const ports = { run: runCommand, out, signal: new AbortController().signal, clock: systemClock };
    const updates: string[] = [];
    // one phase with a recording task, to see every progress update
    await runInstallPhase(ports, 'kexec', run, recordingTask(updates));
    assert.deepEqual(updates, ['Uploading install SSH keys', 'Gathering machine facts', 'Switching system into kexec', 'Generating facter.json using nixos-facter', 'Done!']);
    assert.ok(statSync(`${flake}/facter.json`).isFile());
    // the rest as task lines, with a secret-bearing nix option and --debug so the fake echoes argv
    run.options.nixOptions = { 'access-tokens': `github.com=${TOKEN}` };
    run.options.debug = true;
    await runInstallPhases(ports, ['disko', 'install', 'reboot'], run);
    assert.match(text(), /✔ Partition and format the disk \(disko\)/);
    assert.match(text(), /✔ Install NixOS/);
    assert.match(text(), /✔ Reboot into the new system/);

    const invocations = readFileSync(argvLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    assert.deepEqual(invocations.map((a) => a[a.indexOf('--phases') + 1]), ['kexec', 'disko', 'install', 'reboot']);

    const logs = readdirSync(`${flake}/.bootstrap/logs`);
    assert.deepEqual(logs, ['web1-2026-07-22T07-18-28Z.log']);
    const logPath = `${flake}/.bootstrap/logs/${logs[0]}`;
    assert.equal(statSync(logPath).mode & 0o777, 0o600);
    const log = readFileSync(logPath, 'utf8');
    for (const line of ['### Switching system into kexec ###', '### Formatting hard drive with disko ###', '### Copying extra files ###', '### Installing NixOS ###', '### Rebooting ###']) {
      assert.ok(log.includes(line), `log lacks ${line}`);
    }
    assert.match(log, /! \+ nixos-anywhere .*--option access-tokens github\.com=\[REDACTED\]/);
    for (const secret of [TOKEN, LUKS, 'run-phases-private-key-material', 'AGE-SECRET-KEY-1RUNPHASES']) {
      assert.ok(!log.includes(secret), `log leaks ${secret}`);
      assert.ok(!text().includes(secret), `output leaks ${secret}`);
    }
  });
});

test('a failing phase is a CommandFailed naming the phase and the last step, logged', async () => {
  await withInstallSetup(async ({ run, argvLog }) => {
    const { out, text } = capture();
    const ports = { run: runCommand, out, signal: new AbortController().signal, clock: systemClock };
    const err = await runInstallPhases(ports, ['kexec', 'disko', 'install', 'reboot'], run).then(
      () => assert.fail('should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof PhaseFailed && err instanceof CommandFailed);
    assert.equal(err.phase, 'disko');
    assert.equal(err.code, 'command-failed');
    assert.match(err.message, /failed in phase disko at "Formatting hard drive with disko".*failure injected in phase disko/);
    assert.match(err.hint ?? '', /--resume/);
    assert.match(text(), /✖ Partition and format the disk \(disko\) — Formatting hard drive with disko/);
    assert.equal(readFileSync(argvLog, 'utf8').trim().split('\n').length, 2, 'install and reboot must not run after disko failed');
    assert.match(readFileSync(run.log.path, 'utf8'), /# phase disko failed: .*failure injected/);
  }, { FAKE_NA_FAIL_PHASE: 'disko' });
});

test('the fake refuses unknown flags and wrong tree modes, as the real tool would refuse bad input', async () => {
  await withInstallSetup(async ({ run, extraFilesDir }) => {
    const env = run.env!;
    const bad = await runCommand([`${FAKES}/nixos-anywhere`, '--flake', '.#web1', '--target-host', 'root@h', '--no-such-flag'], { env, check: false });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^Usage: nixos-anywhere \[options\] \[<ssh-host>\]/);
    chmodSync(`${extraFilesDir}/etc/ssh/ssh_host_ed25519_key`, 0o644);
    const { out } = capture();
    await assert.rejects(
      runInstallPhase({ run: runCommand, out, signal: new AbortController().signal, clock: systemClock }, 'install', run),
      (e) => e instanceof PhaseFailed && /ssh_host_ed25519_key has mode 644, want 600/.test(e.message),
    );
  });
});

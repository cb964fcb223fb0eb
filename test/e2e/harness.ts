/**
 * The end-to-end install harness: a flake in a temp dir (local age vault, .sops.yaml) whose CLI runs
 * find the REAL nixos-anywhere.sh and the FAKE nix of the installer lab (test/helpers/installer-lab.ts)
 * on PATH, so every install runs the upstream script against namespace targets. `close()` removes it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { after, before } from 'node:test';
import { createInstallerLab, type InstallerLab, type LabTarget } from '../helpers/installer-lab.js';

export interface InstallerRun {
  phases: string;
  argv: string;
}

export interface Flake {
  dir: string;
  /** Secret directories currently left in this flake's XDG_RUNTIME_DIR. */
  secretDirs(): string[];
  env: Record<string, string>;
  /** Everything every CLI run of this flake printed, for leak scans. */
  printed: string[];
  /** Run the CLI in this flake's environment. */
  cli(args: string[], extraEnv?: Record<string, string | undefined>): Promise<CliResult>;
  /** The text of every install log of this flake so far. */
  installerLogs(): string;
  /** Every nixos-anywhere call of every run so far, from the install logs, oldest first. */
  installerRuns(): InstallerRun[];
  /** Decrypt a vault secret with the age CLI (for leak scans). */
  vaultSecret(name: string): string;
  close(): Promise<void>;
}

/** One installer lab for the tests of a describe block: made before them, torn down after, also on failure. */
export function useInstallerLab(): () => InstallerLab {
  let lab: InstallerLab | undefined;
  before(async () => {
    lab = await createInstallerLab();
  });
  after(async () => {
    await lab?.teardown();
  });
  return () => {
    if (!lab) throw new Error('the installer lab is not up');
    return lab;
  };
}

export async function makeFlake(lab: InstallerLab): Promise<Flake> {
  const dir = mkdtempSync(join(tmpdir(), 'nb-flake-'));
  const identity = join(dir, '.admin-age.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', identity]).toString().trim();
  writeFileSync(join(dir, 'bootstrap.toml'), `[secrets.local]\nrecipients = ["${recipient}"]\n`);
  writeFileSync(
    join(dir, '.sops.yaml'),
    `# admins and hosts\nkeys:\n  - &admin ${recipient} # the operator\ncreation_rules:\n  - path_regex: hosts/[^/]+/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n`,
  );
  writeFileSync(join(dir, 'flake.nix'), '{ outputs = { self, nixpkgs, ... }: { nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${n} ]; }) (builtins.readDir ./hosts); }; }\n');
  const printed: string[] = [];
  // A private runtime dir: the secret directories of this flake's runs appear (and must vanish) here.
  const runtimeDir = join(dir, '.run');
  mkdirSync(runtimeDir, { mode: 0o700 });
  const env: Record<string, string> = { ...lab.env, XDG_RUNTIME_DIR: runtimeDir, BOOTSTRAP_AGE_IDENTITY: identity };
  const installerRuns = (): InstallerRun[] => {
    const logs = join(dir, '.bootstrap/logs');
    if (!existsSync(logs)) return [];
    const runs: InstallerRun[] = [];
    for (const name of readdirSync(logs).sort()) {
      const lines = readFileSync(join(logs, name), 'utf8').split('\n');
      lines.forEach((l, i) => {
        const m = /^# nixos-anywhere for phases (\S+)$/.exec(l);
        if (m) runs.push({ phases: m[1]!, argv: (lines[i + 1] ?? '').replace(/^\$ /, '') });
      });
    }
    return runs;
  };
  return {
    dir,
    secretDirs: () => readdirSync(runtimeDir).filter((n) => n.startsWith('nb-install-')),
    env,
    printed,
    installerRuns,
    installerLogs: () => (existsSync(join(dir, '.bootstrap/logs')) ? readTree(join(dir, '.bootstrap/logs')) : ''),
    cli: async (args, extraEnv = {}) => {
      const r = await runCli([...args, '--flake', dir], { env: { ...env, ...extraEnv }, timeoutMs: 170_000 });
      printed.push(r.stdout, r.stderr);
      return r;
    },
    vaultSecret: (name) => execFileSync('age', ['-d', '-i', identity, join(dir, 'secrets/bootstrap', `${name}.age`)]).toString(),
    close: async () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An install that went through and ends healthy: the lab's installed host looks like NixOS to the
 * report (test/helpers/installed-nixos.ts), so the health report that ends every install passes:
 * exit 0, and with --json its `health.status` is ok (no check fails or warns).
 */
export function assertInstalled(r: CliResult): void {
  let health: { status: string; checks: Array<{ id: string; status: string; summary: string }> } | undefined;
  try {
    health = (JSON.parse(r.stdout) as { health?: typeof health }).health;
  } catch {
    health = undefined; // text output: the exit code says it
  }
  const problems = health?.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => `${c.id} ${c.status}: ${c.summary}`) ?? [];
  assert.equal(r.code, 0, `${problems.join('\n')}\n${r.stderr}`);
  if (health) assert.equal(health.status, 'ok', problems.join('\n'));
}

/**
 * An install that went through onto a host broken on purpose: exit 3 (installed, health failing), and
 * the report (--json) fails exactly the one check `id`, whose hint matches `hint`.
 */
export function assertInstalledFailing(r: CliResult, id: string, hint: RegExp): void {
  assert.equal(r.code, 3, r.stderr);
  const health = (JSON.parse(r.stdout) as { health: { checks: Array<{ id: string; status: string; hint?: string }> } }).health;
  assert.deepEqual(health.checks.filter((c) => c.status === 'fail').map((c) => c.id), [id]);
  assert.match(health.checks.find((c) => c.id === id)!.hint ?? '', hint);
}

/** Every file under dir (recursively), as text, for leak scans. */
export function readTree(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out += readTree(p);
    else if (e.isFile()) out += readFileSync(p, 'utf8');
  }
  return out;
}

/**
 * Fail when any secret of the flake's vault (host keys, LUKS passphrases) shows up in what the CLI
 * printed or in what it keeps (.bootstrap: journal, logs, state; hosts/: rendered files).
 */
export function assertNoLeaks(f: Flake): number {
  const needles = secretNeedles(...vaultNames(f).map((n) => f.vaultSecret(n)));
  const haystack = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap')) + readTree(join(f.dir, 'hosts'));
  for (const n of needles) if (haystack.includes(n)) throw new Error(`a secret from the vault leaked (${n.slice(0, 4)}…)`);
  return needles.length;
}

/**
 * Fail when a secret of the flake's vault sits in a file under the temp dir, /dev/shm or the flake's
 * runtime dir (secret directories, installer temp copies): what a killed run could leave behind.
 * The flake's own vault (encrypted) and operator key are skipped. Returns how many files were read.
 */
export function assertNoSecretFilesLeft(f: Flake): number {
  const needles = secretNeedles(...vaultNames(f).map((n) => f.vaultSecret(n)));
  if (!needles.length) throw new Error('the leak scan has nothing to look for');
  const skip = new Set([join(f.dir, 'secrets'), join(f.dir, '.admin-age.txt')]);
  let files = 0;
  const walk = (d: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // another test's directory, gone or private
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (skip.has(p) || e.name === 'node_modules') continue;
      if (e.isDirectory() && depth < 12) walk(p, depth + 1);
      else if (e.isFile()) {
        let text: string;
        try {
          if (statSync(p).size > 4 << 20) continue;
          text = readFileSync(p, 'latin1');
        } catch {
          continue;
        }
        files++;
        for (const n of needles) if (text.includes(n)) throw new Error(`a secret from the vault was left in ${p} (${n.slice(0, 4)}…)`);
      }
    }
  };
  for (const place of new Set([tmpdir(), '/dev/shm', join(f.dir, '.run')])) walk(place, 0);
  return files;
}

function vaultNames(f: Flake): string[] {
  const names: string[] = [];
  const walk = (d: string, pre: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${pre}${e.name}/`);
      else if (e.name.endsWith('.age')) names.push(`${pre}${e.name.replace(/\.age$/, '')}`);
    }
  };
  walk(join(f.dir, 'secrets/bootstrap'), '');
  return names;
}

/** The private lines of an OpenSSH key and an age identity: what must never be printed. */
export function secretNeedles(...secrets: string[]): string[] {
  // Lines of 16+ characters (key bodies), and whole short secrets such as a LUKS passphrase.
  // The first body line of an OpenSSH key is the same in every unencrypted key of a type: not a secret.
  return secrets.flatMap((s) => [s.trim(), ...s.split('\n').map((l) => l.trim())].filter((l) => l.length >= 16 && !l.startsWith('-----') && !l.startsWith('b3BlbnNzaC1rZXktdjE')));
}

/** Processes of the real installer still running for this flake (from /proc, no shell to match itself). */
export function installerProcesses(f: Pick<Flake, 'dir'>): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes('nixos-anywhere.sh') && cmd.includes(f.dir)) out.push(`${pid} ${cmd}`);
  }
  return out;
}

/** An answers file for a lab target (its user, port, key and pinned fingerprint). */
export function answersToml(t: LabTarget, host: string, extra = ''): string {
  const target = `${t.user}@${t.ip}${t.port === 22 ? '' : `:${t.port}`}`;
  return `host = "${host}"\ntarget = "${target}"\nidentity = "${t.clientKeyPath}"\nhostKey = "${t.fingerprint}"\nyes = true\nconfirmDisk = "${LAB_DISK}"\nwaitTimeout = 60\n${extra}`;
}

/** The install disk of the lab's default scenario (a Hetzner Cloud VPS in its rescue system). */
export const LAB_DISK = '/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_120210839';

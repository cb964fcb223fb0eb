/**
 * The end-to-end install harness: a flake in a temp dir (local age vault, .sops.yaml), the FAKE
 * nixos-anywhere and FAKE nix on PATH, and the reboot hook that restarts a namespace target's
 * real sshd with the key the installer was handed. Everything is torn down by `close()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO_ROOT, type CliResult } from '../helpers/cli.js';
import type { NetnsHost } from '../helpers/netns.js';
import { startRebootHook, type RebootHook } from '../helpers/reboot-hook.js';

export interface Flake {
  dir: string;
  /** Secret directories currently left in this flake's XDG_RUNTIME_DIR. */
  secretDirs(): string[];
  env: Record<string, string>;
  argvLog: string;
  hook: RebootHook;
  /** Everything every CLI run of this flake printed, for leak scans. */
  printed: string[];
  /** Run the CLI in this flake's environment. */
  cli(args: string[], extraEnv?: Record<string, string | undefined>): Promise<CliResult>;
  /** Every invocation of the fake installer so far, as argv arrays. */
  installerCalls(): string[][];
  /** Decrypt a vault secret with the age CLI (for leak scans). */
  vaultSecret(name: string): string;
  close(): Promise<void>;
}

export async function makeFlake(hosts: Map<string, NetnsHost>, opts: { swapKey?: boolean } = {}): Promise<Flake> {
  const dir = mkdtempSync(join(tmpdir(), 'nb-flake-'));
  const bin = join(dir, '.fakes');
  mkdirSync(bin);
  symlinkSync(join(REPO_ROOT, 'test/fakes/nixos-anywhere'), join(bin, 'nixos-anywhere'));
  symlinkSync(join(REPO_ROOT, 'test/fakes/nix'), join(bin, 'nix'));
  const identity = join(dir, '.admin-age.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', identity]).toString().trim();
  writeFileSync(join(dir, 'bootstrap.toml'), `[secrets.local]\nrecipients = ["${recipient}"]\n`);
  writeFileSync(
    join(dir, '.sops.yaml'),
    `# admins and hosts\nkeys:\n  - &admin ${recipient} # the operator\ncreation_rules:\n  - path_regex: hosts/[^/]+/secrets\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n`,
  );
  writeFileSync(join(dir, 'flake.nix'), '{ outputs = { self, nixpkgs, ... }: { nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${n} ]; }) (builtins.readDir ./hosts); }; }\n');

  // The "reboot": restart the target (the fake passes its --target-host) with the key from the
  // extra-files tree.
  const argvLog = join(dir, '.installer-argv.jsonl');
  const printed: string[] = [];
  const installerCalls = (): string[][] => {
    try {
      return readFileSync(argvLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
    } catch {
      return [];
    }
  };
  const hook = await startRebootHook({
    async restart(keyPath, dest = '') {
      const host = [...hosts.values()].find((h) => dest.endsWith(`@${h.ip}`));
      if (!host) throw new Error(`reboot hook: no namespace host for ${dest}`);
      // swapKey: a fresh key (the wrong machine answers); no key path (--copy-host-keys): keep its own.
      await host.restartWithHostKey(opts.swapKey ? undefined : (keyPath ?? host.hostKeyPath));
    },
  });
  // A private runtime dir: the secret directories of this flake's runs appear (and must vanish) here.
  const runtimeDir = join(dir, '.run');
  mkdirSync(runtimeDir, { mode: 0o700 });
  const env: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH}`,
    XDG_RUNTIME_DIR: runtimeDir,
    BOOTSTRAP_AGE_IDENTITY: identity,
    FAKE_NA_STATE: join(dir, '.installer-state.json'),
    FAKE_NA_ARGV_LOG: argvLog,
    ...hook.env,
  };
  return {
    dir,
    secretDirs: () => readdirSync(runtimeDir).filter((n) => n.startsWith('nb-install-')),
    env,
    argvLog,
    hook,
    installerCalls,
    printed,
    cli: async (args, extraEnv = {}) => {
      const r = await runCli([...args, '--flake', dir], { env: { ...env, ...extraEnv }, timeoutMs: 120_000 });
      printed.push(r.stdout, r.stderr);
      return r;
    },
    vaultSecret: (name) => execFileSync('age', ['-d', '-i', identity, join(dir, 'secrets/bootstrap', `${name}.age`)]).toString(),
    close: async () => {
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
  const vault = join(f.dir, 'secrets/bootstrap');
  const names: string[] = [];
  const walk = (d: string, pre: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${pre}${e.name}/`);
      else if (e.name.endsWith('.age')) names.push(`${pre}${e.name.replace(/\.age$/, '')}`);
    }
  };
  walk(vault, '');
  const needles = secretNeedles(...names.map((n) => f.vaultSecret(n)));
  const haystack = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap')) + readTree(join(f.dir, 'hosts'));
  for (const n of needles) if (haystack.includes(n)) throw new Error(`a secret from the vault leaked (${n.slice(0, 4)}…)`);
  return needles.length;
}

/** The private lines of an OpenSSH key and an age identity: what must never be printed. */
export function secretNeedles(...secrets: string[]): string[] {
  // Lines of 16+ characters (key bodies), and whole short secrets such as a LUKS passphrase.
  return secrets.flatMap((s) => [s.trim(), ...s.split('\n').map((l) => l.trim())].filter((l) => l.length >= 16 && !l.startsWith('-----')));
}

export function answersToml(h: NetnsHost, host: string, extra = ''): string {
  return `host = "${host}"\ntarget = "${h.target}"\nidentity = "${h.clientKeyPath}"\nhostKey = "${h.fingerprint}"\nyes = true\nconfirmDisk = "/dev/vda"\nwaitTimeout = 60\n${extra}`;
}

/**
 * Issue 18: the generated default.nix yields to the user's own modules. Fixture flakes whose
 * configuration.nix sets each value bootstrap renders (stateVersion 23.11, PermitRootLogin "no"
 * with an admin user, another SSH port, their own boot loader, host name) are evaluated by the REAL
 * module system of nixpkgs' lib (shared/nix-src/nixpkgs-lib, Debian's nix-instantiate) over a typed
 * slice of NixOS (test/fakes/nixos), through flake.nix as nix would; preflight's access check (the
 * login check and the lock-out guard, one evaluation) runs through the fake nix that evaluates the
 * same way. A default.nix of the old kind (plain values)
 * gives nix's real "conflicting definition values" error, reported with the option, both files and
 * the line to change.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigSchema } from '../../src/config/schema.js';
import { isBootstrapError } from '../../src/errors.js';
import { CommandFailed, runCommand, type Runner } from '../../src/exec/run.js';
import { loadProfiles } from '../../src/profiles/load.js';
import { buildHostPlan } from '../../src/render/plan.js';
import { buildNixFailure } from '../../src/workflow/install/preflight-nix.js';
import { runAccessPreflight } from '../../src/workflow/install/preflight-access.js';
import { parseLoginKeyLine } from '../../src/installer/login-keys.js';
import type { InstallCtx } from '../../src/workflow/install/context.js';
import { parseTarget } from '../../src/ssh/target.js';
import type { Task } from '../../src/ports/output.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { loadReport } from '../helpers/reports.js';

const NIXLIB = process.env.NB_NIXPKGS_LIB ?? join(REPO_ROOT, '../shared/nix-src/nixpkgs-lib');
const FAKES = join(REPO_ROOT, 'test/fakes');
const profiles = await loadProfiles();
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHwCmaXGGnQvm1sBuw6E9nhf8FG8ftnMHUxFFq3IhQOM alice@laptop';
const NIX_ENV = { NIX_REMOTE: 'dummy://', NIX_CONFIG: 'build-users-group =', NIX_PATH: '' };

// The fake nix as `nix` on PATH, for preflight's own calls.
const bin = mkdtempSync(join(tmpdir(), 'nb-bin-'));
symlinkSync(join(FAKES, 'nix'), join(bin, 'nix'));
after(() => rmSync(bin, { recursive: true, force: true }));
const run: Runner = (argv, o) => runCommand(argv, { ...o, env: { ...o?.env, ...NIX_ENV, NB_NIXPKGS_LIB: NIXLIB, PATH: `${bin}:${process.env.PATH}` } });
const progress: Task = { update: () => undefined } as unknown as Task;

/** The plain shape: flake.nix imports the user's configuration.nix and the host's folder. */
const FLAKE_NIX =
  '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";\n  inputs.disko.url = "github:nix-community/disko";\n' +
  '  outputs = { self, nixpkgs, disko, ... }: {\n    nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem {\n' +
  '      modules = [ disko.nixosModules.disko ./configuration.nix ./hosts/${n} ];\n    }) (builtins.readDir ./hosts);\n  };\n}\n';

/** A user's configuration.nix, written as users write theirs: everything bootstrap renders, set their way. */
const userConfig = (loader: string, port = 2222) => `{ config, lib, pkgs, ... }:
{
  system.stateVersion = "23.11"; # installed long ago, never bumped
  networking.hostName = "db-primary";
  services.openssh = {
    enable = true;
    ports = [ ${port} ];
    settings = {
      PermitRootLogin = "no";
      PasswordAuthentication = false;
    };
  };
  users.users.admin = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    openssh.authorizedKeys.keys = [ "${KEY}" ];
  };
${loader}
  environment.systemPackages = [ pkgs.git ];
}
`;

const LOADERS = {
  // A BIOS VPS whose owner runs GRUB on the disk by hand, no EFI bits.
  grub: '  boot.loader.grub.enable = true;\n  boot.loader.grub.efiSupport = false;\n  boot.loader.grub.efiInstallAsRemovable = false;',
  // A UEFI laptop whose owner prefers GRUB over systemd-boot and keeps NVRAM untouched.
  'grub-efi': '  boot.loader.systemd-boot.enable = false;\n  boot.loader.grub.enable = true;\n  boot.loader.grub.efiSupport = true;\n  boot.loader.grub.devices = [ "nodev" ];\n  boot.loader.efi.canTouchEfiVariables = false;',
};

function writeFlake(dir: string, host: string, report: string, loader: string, o: { port?: number; oldStyle?: boolean } = {}): string {
  const plan = buildHostPlan({ host, report: loadReport(report), answers: { target: 'root@192.0.2.10:2222', loginKeys: [KEY] }, profiles });
  for (const f of plan.files) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    // The old kind: what bootstrap wrote before issue 18, every value a plain definition.
    writeFileSync(join(dir, f.path), o.oldStyle ? f.content.replace(/lib\.mkDefault /g, '') : f.content);
  }
  writeFileSync(join(dir, 'flake.nix'), FLAKE_NIX);
  writeFileSync(join(dir, 'configuration.nix'), userConfig(loader, o.port));
  return plan.files.find((f) => f.path.endsWith('/default.nix'))!.content;
}

/** The host's evaluated config, through flake.nix (test/fakes/nixos/eval-flake.nix). */
async function evaluate(dir: string, host: string): Promise<{ code: number; json?: any; stderr: string }> {
  const expr = `let c = (import ${FAKES}/nixos/eval-flake.nix { dir = "${dir}"; libPath = "${NIXLIB}"; }).nixosConfigurations.${host}.config; in {
    stateVersion = c.system.stateVersion; hostName = c.networking.hostName;
    ssh = { inherit (c.services.openssh) enable ports; inherit (c.services.openssh.settings) PermitRootLogin PasswordAuthentication; };
    loader = { grub = { inherit (c.boot.loader.grub) enable efiSupport efiInstallAsRemovable devices; }; systemdBoot = c.boot.loader.systemd-boot.enable; canTouch = c.boot.loader.efi.canTouchEfiVariables; };
    keys = builtins.mapAttrs (_: u: u.openssh.authorizedKeys.keys) c.users.users; }`;
  const r = await runCommand(['nix-instantiate', '--eval', '--strict', '--json', '-E', expr], { env: NIX_ENV, check: false });
  return { code: r.code ?? 1, stderr: r.stderr, ...(r.code === 0 ? { json: JSON.parse(r.stdout) } : {}) };
}

const ctxFor = (dir: string, host: string, target = 'root@192.0.2.10:2222') => ({
  app: { run, env: process.env } as never,
  flakeDir: dir,
  host,
  signal: new AbortController().signal,
  loaded: { flakeDir: dir, file: join(dir, 'bootstrap.toml'), exists: false, config: ConfigSchema.parse({}) },
  target: parseTarget(target),
  answers: {},
  out: { warn: () => undefined } as never,
  // The operator holds the admin's (and root's) key; the probe saw the VPS's one NIC.
  login: { keys: [parseLoginKeyLine(KEY)!], source: 'answers' as const },
  report: { os: { isInstaller: false }, nics: [{ name: 'eth0', addresses: ['192.0.2.10/24'] }] },
  builtPath: join(dir, '.bootstrap/state', host, 'built.json'),
}) as unknown as InstallCtx;

const CASES: Array<[string, string, keyof typeof LOADERS]> = [
  ['ovh-vps', 'vps1', 'grub'],
  ['amd-laptop', 'laptop', 'grub-efi'],
];

for (const [report, host, loader] of CASES) {
  test(`a flake whose configuration.nix sets every rendered value (${report}, ${loader}): its values win, preflight's access check passes, no hand edit`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nb-yield-'));
    try {
      const rendered = writeFlake(dir, host, report, LOADERS[loader]);
      assert.match(rendered, /system\.stateVersion = lib\.mkDefault "25\.05";/);
      const r = await evaluate(dir, host);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.stateVersion, '23.11');
      assert.equal(r.json.hostName, 'db-primary');
      assert.deepEqual(r.json.ssh, { enable: true, ports: [2222], PermitRootLogin: 'no', PasswordAuthentication: false });
      if (loader === 'grub') assert.deepEqual(r.json.loader.grub, { enable: true, efiSupport: false, efiInstallAsRemovable: false, devices: [] });
      else assert.deepEqual([r.json.loader.systemdBoot, r.json.loader.grub.enable, r.json.loader.grub.devices, r.json.loader.canTouch], [false, true, ['nodev'], false]);
      // Root's login key (a list) merges with the user's admin key instead of replacing it.
      assert.deepEqual(r.json.keys, { admin: [KEY], root: [KEY] });
      assert.equal((await runAccessPreflight(ctxFor(dir, host), progress)).detail, undefined, 'no override needed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('without lib.mkDefault (a default.nix of the old kind), nix refuses; the error names the option, both files and the line to change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-yield-'));
  try {
    writeFlake(dir, 'vps1', 'ovh-vps', LOADERS.grub, { oldStyle: true });
    const r = await evaluate(dir, 'vps1');
    assert.notEqual(r.code, 0, 'the plain definitions conflict with the user module');
    assert.match(r.stderr, /The option `[^']+' has conflicting definition values:/);
    // What preflight shows for that nix failure.
    const e = buildNixFailure(ctxFor(dir, 'vps1'), new CommandFailed({ argv: ['nix'], code: 1, signal: null, stdout: '', stderr: r.stderr, durationMs: 0 }), 'build-failed', 'x', 'y');
    assert.equal(e.code, 'option-conflict');
    assert.match(e.message, /^nixosConfigurations\.vps1 does not evaluate: option (system\.stateVersion|networking\.hostName|services\.openssh\.settings\.PermitRootLogin|boot\.loader\.grub\.\w+) is set twice with different values: /);
    assert.match(e.message, /hosts\/vps1\/default\.nix sets /);
    assert.match(e.message, /configuration\.nix sets /);
    assert.doesNotMatch(e.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'files relative to the flake');
    assert.match(e.hint!, /^in hosts\/vps1\/default\.nix, delete the line `\w+ = …;` of [\w.]+ \(bootstrap's starting value\), so configuration\.nix's .+ applies; then run again with --resume/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("preflight refuses a host whose sshd would not answer on the target's port or address, or not at all, or not to the admin", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-yield-'));
  const refused = async (target: string | undefined, message: RegExp, hint: RegExp) =>
    assert.rejects(runAccessPreflight(ctxFor(dir, 'vps1', target), progress), (e) => {
      assert.ok(isBootstrapError(e), String(e));
      assert.equal(e.code, 'lockout', e.message);
      assert.match(e.message, message);
      assert.match(e.hint ?? '', hint);
      assert.match(e.hint ?? '', /--allow-lockout; nothing on the target was touched/);
      return true;
    });
  try {
    writeFlake(dir, 'vps1', 'ovh-vps', LOADERS.grub, { port: 22 });
    await refused(undefined, /sshd listens on 22, not on port 2222 where bootstrap connects/, /services\.openssh\.ports = \[ 2222 \], or name port 22 in the manifest's target/);
    await runAccessPreflight(ctxFor(dir, 'vps1', 'root@192.0.2.10:22'), progress);
    // Hardening as users write it: sshd bound to the private network only, a login allow-list.
    const hardened = (extra: string) => writeFileSync(join(dir, 'configuration.nix'), userConfig(LOADERS.grub, 22).replace('  environment.systemPackages', `${extra}\n  environment.systemPackages`));
    hardened('  services.openssh.listenAddresses = [ { addr = "10.0.0.5"; } ];');
    await refused('root@192.0.2.10:22', /sshd listens on port 22 only on 10\.0\.0\.5 \(ListenAddress\), not on 192\.0\.2\.10 where bootstrap connects/, /services\.openssh\.listenAddresses \(add \{ addr = "192\.0\.2\.10"; \}/);
    hardened('  services.openssh.listenAddresses = [ { addr = "10.0.0.5"; } { addr = "192.0.2.10"; } ];');
    await runAccessPreflight(ctxFor(dir, 'vps1', 'root@192.0.2.10:22'), progress);
    hardened('  services.openssh.listenAddresses = [ { addr = "100.88.1.2"; port = 22; } ];');
    await refused('root@192.0.2.10:22', /only on 100\.88\.1\.2 \(ListenAddress\), a tailnet address/, /services\.openssh\.listenAddresses/);
    // The admin (root may not log in: PermitRootLogin "no") is the login; sshd must admit it.
    hardened('  services.openssh.settings.AllowUsers = [ "deploy" ];');
    await refused('root@192.0.2.10:22', /sshd refuses admin, the user bootstrap logs in as: AllowUsers does not list admin/, /services\.openssh\.settings\.AllowUsers \(add "admin"\)/);
    hardened('  services.openssh.settings.AllowGroups = [ "ssh-users" ];');
    await refused('root@192.0.2.10:22', /sshd refuses admin, the user bootstrap logs in as: AllowGroups lists none of admin's groups \(wheel, users\)/, /services\.openssh\.settings\.AllowGroups \(add one of admin's groups: wheel, users\) or users\.users\.admin\.extraGroups/);
    hardened('  services.openssh.settings.DenyUsers = [ "adm*" ];');
    await refused('root@192.0.2.10:22', /DenyUsers lists admin \("adm\*"\)/, /services\.openssh\.settings\.DenyUsers/);
    // --allow-lockout: on, the override returned for the journal.
    const allowed = ctxFor(dir, 'vps1', 'root@192.0.2.10:22');
    (allowed.answers as { allowLockout?: boolean }).allowLockout = true;
    assert.match((await runAccessPreflight(allowed, progress)).detail ?? '', /^--allow-lockout: login-user-refused: sshd refuses admin/);
    hardened('  services.openssh.settings.AllowGroups = [ "wheel" ];');
    await runAccessPreflight(ctxFor(dir, 'vps1', 'root@192.0.2.10:22'), progress);
    writeFileSync(join(dir, 'configuration.nix'), '{ services.openssh.enable = false; }\n');
    await refused(undefined, /sshd is disabled: nobody can log in over SSH/, /services\.openssh\.enable = true/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * An installed NixOS host's state as files, built from the real agenix / sops-nix modules
 * (nixos-eval.ts): the system toplevel with the activation script they made, /run as their
 * activation leaves it (generation directories, the secrets links, file modes), sops-nix's manifest
 * in the store, /etc (os-release, fstab, nix.conf, units), the system profile, and FAKE tools
 * (nixos-tools.ts). `runHealthScript` runs the real health script (src/health/script.sh) with the
 * real dash on that tree: chrooted into it, inside a private mount namespace (unshare) where /usr,
 * /dev and /proc come from this machine. Needs root.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, lutimesSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildHealthInput } from '../../src/health/script.js';
import type { EvaluatedHost, SecretsModule } from './nixos-eval.js';
import { findmntShim, journalctlShim, otherShims, procSwaps, swaponShim, systemctlShim, type ToolCase } from './nixos-tools.js';

export const SOPS_KEY = '/var/lib/sops-nix/key.txt';
const HOST = 'web1';
const sp = (c: string, name: string) => `/nix/store/${c.repeat(32).slice(0, 32)}-${name}`;
export const BUILT = sp('7', `nixos-system-${HOST}-25.05.20250601.abcdef0`);
const SPECIAL = sp('8', `nixos-system-${HOST}-25.05.20250601.abcdef0`);
const OLD = sp('6', `nixos-system-${HOST}-25.05.20250501.1234567`);

export interface HostCase extends ToolCase {
  module: SecretsModule;
  evaluated: EvaluatedHost;
  /** Secret names the activation could not decrypt (their files are absent). */
  missing: string[];
  /** sops-nix: the last activation's sops-install-secrets failed, the previous generation stayed. */
  sopsFailedActivation: boolean;
  /** The host switched to specialisation "nogpu" of the built system. */
  specialisation: boolean;
  /** The running configuration has a newer kernel than the booted one (switched, not rebooted). */
  kernelUpdated: boolean;
  /** system.configurationRevision, when the flake sets it. */
  revision: string | null;
}

export function hostCase(module: SecretsModule, evaluated: EvaluatedHost, over: Partial<HostCase> = {}): HostCase {
  return {
    module, evaluated, missing: [], sopsFailedActivation: false, specialisation: false, kernelUpdated: false, revision: null,
    failedUnits: [], backup: 'ok', swap: 'disk', bootAutomount: false, now: Math.floor(Date.now() / 1000), ...over,
  };
}

const write = (root: string, path: string, text: string, mode = 0o644) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text, { mode });
  chmodSync(join(root, path), mode);
};
const link = (root: string, path: string, target: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(target, join(root, path));
};
const touchLink = (root: string, path: string, epoch: number) => lutimesSync(join(root, path), epoch, epoch);

/**
 * A system toplevel as nixpkgs' top-level.nix builds it: activate, kernel, initrd, kernel-modules,
 * sw (with nixos-version), specialisation/NAME links.
 */
function writeToplevel(root: string, path: string, c: HostCase, kernel: string, specs: Record<string, string> = {}): void {
  write(root, `${path}/activate`, c.evaluated.activate.replace("systemConfig='@out@'", `systemConfig='${path}'`), 0o555);
  link(root, `${path}/kernel`, `${sp('k', `linux-${kernel}`)}/bzImage`);
  link(root, `${path}/initrd`, `${sp('i', `initrd-linux-${kernel}`)}/initrd`);
  link(root, `${path}/kernel-modules`, sp('m', `linux-${kernel}-modules`));
  const sw = sp(path.length % 2 ? 's' : 't', `system-path-${path.slice(11, 15)}`);
  link(root, `${path}/sw`, sw);
  // nixpkgs nixos/modules/installer/tools/nixos-version.sh, as substituted for this system.
  const rev = c.revision ?? '@configurationRevision@';
  write(root, `${sw}/bin/nixos-version`, [
    '#!/bin/bash',
    'case "$1" in',
    '  --configuration-revision)',
    `    if [[ "${rev}" =~ "@" ]]; then`,
    '      echo "$0: configuration revision is unknown" >&2',
    '      exit 1',
    '    fi',
    `    echo "${rev}"`,
    '    ;;',
    '  *) echo "25.05.20250601.abcdef0 (Warbler)" ;;',
    'esac',
    '',
  ].join('\n'), 0o555);
  for (const [name, target] of Object.entries(specs)) link(root, `${path}/specialisation/${name}`, target);
  for (const f of [`${sp('k', `linux-${kernel}`)}/bzImage`, `${sp('i', `initrd-linux-${kernel}`)}/initrd`]) write(root, f, 'x');
  mkdirSync(join(root, sp('m', `linux-${kernel}-modules`)), { recursive: true });
}

/** agenix's activation output: secretsMountPoint/GEN/NAME (its mode), secretsDir → GEN, links for other paths. */
function writeAgenix(root: string, c: HostCase, config: Record<string, unknown>): void {
  const secrets = (config.age as { secrets: Record<string, { path?: string; mode?: string }> }).secrets;
  mkdirSync(join(root, 'run/agenix.d/1'), { recursive: true, mode: 0o751 });
  link(root, 'run/agenix', '/run/agenix.d/1');
  for (const [name, s] of Object.entries(secrets)) {
    if (!c.missing.includes(name)) write(root, `run/agenix.d/1/${name}`, `${name}-value\n`, parseInt(s.mode ?? '0400', 8));
    if (s.path && s.path !== `/run/agenix/${name}`) link(root, s.path.slice(1), `/run/agenix/${name}`);
  }
  const unit = c.evaluated.units['agenix-install-secrets'];
  if (unit?.script && typeof unit.execStart === 'string') {
    // NixOS writes the unit to /etc/systemd/system (ExecStart is the store script writeShellScript made).
    write(root, unit.execStart.slice(1), unit.script, 0o555);
    write(root, 'etc/systemd/system/agenix-install-secrets.service', `[Unit]\nDefaultDependencies=no\n\n[Service]\nExecStart=${unit.execStart}\nRemainAfterExit=true\nType=oneshot\n`);
  }
}

/** sops-nix: the manifest in the store, secretsMountPoint/GEN/NAME (manifest mode), symlinkPath → GEN. */
function writeSops(root: string, c: HostCase, activatedAt: number): void {
  const m = c.evaluated.manifest!;
  write(root, m.path.slice(1), m.text, 0o444);
  const j = JSON.parse(m.text) as { secrets: Array<{ name: string; path: string; mode: string }>; symlinkPath: string; secretsMountPoint: string };
  const gen = `${j.secretsMountPoint}/1`;
  mkdirSync(join(root, gen), { recursive: true, mode: 0o751 });
  write(root, `${j.secretsMountPoint}/age-keys.txt`, '# generated by sops-nix\n', 0o600);
  link(root, j.symlinkPath.slice(1), gen);
  for (const s of j.secrets) if (!c.missing.includes(s.name)) write(root, `${gen}/${s.name}`, `${s.name}-value\n`, parseInt(s.mode, 8));
  // A failed run links nothing: the generation is from the activation before (a day earlier).
  touchLink(root, j.symlinkPath.slice(1), c.sopsFailedActivation ? activatedAt - 86400 : activatedAt - 2);
}

/** Lay out the host under `root`; returns the key files bootstrap delivered. */
export function buildNixosHost(root: string, c: HostCase, config: Record<string, unknown>): { keyFiles: string[] } {
  const activatedAt = c.now - 3600;
  for (const d of ['usr', 'dev', 'proc', 'tmp', 'sys/firmware/efi']) mkdirSync(join(root, d), { recursive: true });
  for (const l of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${l}`, join(root, l));
  // The system: built (the profile), maybe a specialisation of it running, maybe an older one booted.
  writeToplevel(root, BUILT, c, '6.6.90', c.specialisation ? { nogpu: SPECIAL } : {});
  if (c.specialisation) writeToplevel(root, SPECIAL, c, '6.6.90');
  if (c.kernelUpdated) writeToplevel(root, OLD, c, '6.6.80');
  const running = c.specialisation ? SPECIAL : BUILT;
  link(root, 'nix/var/nix/profiles/system-4-link', BUILT);
  link(root, 'nix/var/nix/profiles/system', 'system-4-link');
  link(root, 'run/current-system', running);
  link(root, 'run/booted-system', c.kernelUpdated ? OLD : running);
  touchLink(root, 'run/current-system', activatedAt);

  // /etc as NixOS makes it (environment.etc), plus what the chroot's dynamic linker needs.
  mkdirSync(join(root, 'etc'), { recursive: true });
  copyFileSync('/etc/ld.so.cache', join(root, 'etc/ld.so.cache'));
  write(root, 'etc/os-release', 'ANSI_COLOR="1;34"\nBUG_REPORT_URL="https://github.com/NixOS/nixpkgs/issues"\nBUILD_ID="25.05.20250601.abcdef0"\nDOCUMENTATION_URL="https://nixos.org/learn.html"\nHOME_URL="https://nixos.org/"\nID=nixos\nLOGO="nix-snowflake"\nNAME=NixOS\nPRETTY_NAME="NixOS 25.05 (Warbler)"\nVERSION="25.05 (Warbler)"\nVERSION_CODENAME=warbler\nVERSION_ID="25.05"\n');
  write(root, 'etc/passwd', 'root:x:0:0:System administrator:/root:/run/current-system/sw/bin/bash\nnobody:x:65534:65534:Unprivileged account (don\'t use!):/var/empty:/run/current-system/sw/bin/nologin\n');
  write(root, 'etc/group', 'root:x:0:\nkeys:x:996:\nnogroup:x:65534:\n');
  // nixpkgs nixos/modules/tasks/filesystems.nix writes fstab: device mountpoint type options 0 2.
  write(root, 'etc/fstab', [
    '# This is a generated file.  Do not edit!', '',
    '# Filesystems.',
    '/dev/disk/by-partlabel/disk-main-root / ext4 defaults 0 1',
    `/dev/disk/by-partlabel/disk-main-ESP /boot vfat ${c.bootAutomount ? 'x-systemd.automount,x-systemd.idle-timeout=120,' : ''}fmask=0077,dmask=0077 0 2`,
    '', '# Swap devices.', '/dev/disk/by-partlabel/disk-main-swap none swap defaults', '',
  ].join('\n'));
  // nix.conf as nix.settings renders it, the caches in an included file (nix.extraOptions).
  write(root, 'etc/nix/nix.conf', '# WARNING: this file is generated from the nix.* options in\n# your NixOS configuration, typically\n# /etc/nixos/configuration.nix.  Do not edit it!\nbuild-users-group = nixbld\nexperimental-features = nix-command flakes\n!include /etc/nix/nix.local.conf\ninclude caches.conf\n');
  write(root, 'etc/nix/caches.conf', 'substituters = https://cache.nixos.org/\ntrusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=\n');
  write(root, 'etc/ssh/ssh_host_ed25519_key', 'x', 0o600);

  if (c.module === 'sops-nix') writeSops(root, c, activatedAt);
  else writeAgenix(root, c, config);
  const keyFiles = c.module === 'sops-nix' ? [SOPS_KEY] : [];
  if (c.module === 'sops-nix') write(root, SOPS_KEY.slice(1), 'AGE-SECRET-KEY-1FAKE\n', 0o600);

  const shims: Record<string, string> = { ...otherShims(), systemctl: systemctlShim(c), journalctl: journalctlShim(c), findmnt: findmntShim(c) };
  const swapon = swaponShim(c);
  if (swapon) shims.swapon = swapon;
  else {
    link(root, 'shims/swapon', '/usr/bin/busybox');
    write(root, '.proc-swaps', procSwaps());
  }
  for (const [name, text] of Object.entries(shims)) write(root, `shims/${name}`, text, 0o755);
  return { keyFiles };
}

/** Run the real health script on the host tree (chroot in a private mount namespace); its stdout. */
export function runHealthScript(root: string, keyFiles: string[]): string {
  const prep = [
    'set -e',
    'R=$1',
    'for d in usr dev proc; do mount --rbind "/$d" "$R/$d"; done',
    // The kernel's /proc/swaps of this host (busybox swapon's fallback), over the real one.
    '[ -f "$R/.proc-swaps" ] && mount --bind "$R/.proc-swaps" "$R/proc/swaps"',
    'exec chroot "$R" /usr/bin/env -i PATH=/shims:/usr/bin:/bin HOME=/root /bin/sh -s',
  ].join('\n');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', prep, 'sh', root], { input: buildHealthInput(keyFiles), encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`the health script failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

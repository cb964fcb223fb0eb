/**
 * The installed NixOS of an installer-lab target (installer-lab.ts), as the health report reads it
 * after the reboot: what nixos-install put under /mnt becomes the running system. At the reboot the
 * lab calls `bootInstalledSystem`, which
 *   - copies the installed store (/mnt + the fake store dir) to the target's store, links
 *     /run/current-system and /run/booted-system to the installed toplevel (/mnt/.nixos-installed),
 *   - copies /mnt/var/lib (the key files bootstrap delivered as extra files) to the target's /var/lib,
 *   - writes /etc/nix/nix.conf as the flake's nix.settings would (the manifest's cache),
 *   - with the test switch /tmp/nb-lab-failed-unit (used once), boots with nb-lab-broken.service failed,
 *   - writes FAKE systemctl, timedatectl, swapon, findmnt and lsblk answers for the installed phase, from
 *     the host's manifest (the layout disko made, planned swap, backups): the shims answer so only while
 *     /run/current-system exists (the installed phase) and otherwise run what they replaced.
 * `leaveInstalledSystem` empties /run again (kexec, rescue: a RAM system without it).
 * Formats are those of test/health/nixos-tools.ts (systemd, util-linux), with their sources there.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { buildLayoutExpectation } from '../../src/health/expect.js';
import { readManifest } from '../../src/manifest/manifest.js';
import type { Manifest } from '../../src/manifest/schema.js';
import { sdTime } from '../health/nixos-tools.js';

export interface InstalledDirs {
  mnt: string;
  /** The target's private directories bind-mounted at /run, /var/lib, /etc/nix and the store dir. */
  run: string;
  varLib: string;
  etcNix: string;
  store: string;
  /** The fake store's absolute path (the same inside the target). */
  storeDir: string;
  shims: string;
  /** The target's /tmp, where the lab's test switches are (nb-lab-failed-unit). */
  tmp: string;
}

const pf = (s: string) => `printf '%s\\n' '${s.replace(/'/g, `'\\''`)}'`;
const INSTALLED = '[ -e /run/current-system ]';

/** Keep a shim's previous body as NAME.pre (or fall back to the real tool) for the other phases. */
function phaseShim(shims: string, name: string, installed: string[]): void {
  const path = join(shims, name);
  const pre = join(shims, `${name}.pre`);
  if (existsSync(path) && !existsSync(pre)) renameSync(path, pre);
  const other = existsSync(pre) ? `exec '${pre}' "$@"` : `exec /usr/bin/${name} "$@"`;
  writeFileSync(path, ['#!/bin/sh', '# FAKE (test/helpers/installed-nixos.ts): the installed NixOS answers while /run/current-system exists', `if ${INSTALLED}; then`, ...installed.map((l) => `  ${l}`), '  exit 0', 'fi', other, ''].join('\n'));
  chmodSync(path, 0o755);
}

/** The flake dir and host of the installed toplevel (test/fakes/nix writes them into it). */
function builtFrom(sysDir: string): { flake: string; host: string } | null {
  try {
    const m = /^FAKE NixOS system of (\S+) \(test\/fakes\/nix, from (.+)\)$/m.exec(readFileSync(join(sysDir, 'fake-nixos-system'), 'utf8'));
    return m ? { host: m[1]!, flake: m[2]! } : null;
  } catch {
    return null;
  }
}

function writeShims(d: InstalledDirs, m: Manifest, now: number, failedUnit: boolean): void {
  const layout = buildLayoutExpectation(m.layout);
  const btrfs = layout?.rootFs === 'btrfs';
  const rootDev = layout?.encrypted ? '/dev/mapper/crypted' : layout?.raid ? '/dev/md127' : '/dev/sda2';
  const mounts = [
    btrfs ? `/ ${rootDev}[/root] btrfs rw,relatime,space_cache=v2,subvolid=256,subvol=/root` : `/ ${rootDev} ext4 rw,relatime`,
    ...(layout?.mounts ?? []).map((x) => (x.subvolume ? `${x.mountpoint} ${rootDev}[${x.subvolume}] btrfs rw,relatime,subvol=${x.subvolume}` : `${x.mountpoint} /dev/sdb1 ext4 rw,relatime`)),
  ];
  phaseShim(d.shims, 'findmnt', [mounts.map(pf).join('; '), "[ -d /sys/firmware/efi ] && printf '%s\\n' '/boot /dev/sda1 vfat rw,relatime,fmask=0022,dmask=0022'"]);
  const swap = m.layout.swapBytes ?? 0;
  phaseShim(d.shims, 'swapon', swap > 0 ? [pf(`/dev/sda3 partition ${swap - 4096}`)] : [':']);
  phaseShim(d.shims, 'lsblk', [layout?.encrypted ? pf('crypted crypt') : ':']);
  phaseShim(d.shims, 'timedatectl', [pf('NTP=yes'), pf('NTPSynchronized=yes')]);
  // NixOS's restic module (services.restic.backups.NAME) makes restic-backups-NAME.{service,timer};
  // bootstrap's backup.nix names it "bootstrap". Freshly installed: armed, never run.
  const backup = m.backup !== undefined && m.backup.enable !== false;
  const unit = 'restic-backups-bootstrap';
  const next = sdTime(now + 12 * 3600);
  phaseShim(d.shims, 'systemctl', [
    'case "$*" in',
    `  is-system-running*) echo ${failedUnit ? 'degraded' : 'running'} ;;`,
    `  *--failed*) ${failedUnit ? pf('nb-lab-broken.service loaded failed failed nb-lab-broken') : ':'} ;;`,
    `  list-timers*) ${backup ? pf(`${next} 12h left - - ${unit}.timer ${unit}.service`) : ':'} ;;`,
    `  *${unit}.timer) ${[`ActiveState=active`, `NextElapseUSecRealtime=${next}`, 'LastTriggerUSec='].map(pf).join('; ')} ;;`,
    `  *${unit}.service) ${['ActiveState=inactive', 'Result=success', 'ExecMainStatus=0', 'ExecMainExitTimestamp=', 'InvocationID='].map(pf).join('; ')} ;;`,
    '  *) echo "Unknown command verb $1." >&2; exit 1 ;;',
    'esac',
  ]);
  phaseShim(d.shims, 'journalctl', [':']);
}

/** Boot the installed system (the lab's reboot): see the module comment. No-op when nothing was installed. */
export async function bootInstalledSystem(d: InstalledDirs): Promise<void> {
  leaveInstalledSystem(d);
  const marker = join(d.mnt, '.nixos-installed');
  if (!existsSync(marker)) return;
  const sys = readFileSync(marker, 'utf8').trim();
  const installedStore = join(d.mnt, d.storeDir);
  if (existsSync(installedStore)) cpSync(installedStore, d.store, { recursive: true, verbatimSymlinks: true, force: true });
  if (existsSync(join(d.mnt, 'var/lib'))) cpSync(join(d.mnt, 'var/lib'), d.varLib, { recursive: true, verbatimSymlinks: true, force: true });
  const from = builtFrom(join(installedStore, sys.slice(d.storeDir.length)));
  let m: Manifest | null = null;
  if (from) {
    try {
      m = await readManifest(from.flake, from.host);
    } catch {
      m = null; // a flake without a manifest: the report says what is missing
    }
  }
  // Test switch: the installed system boots with one failed unit (used once).
  const failedUnit = existsSync(join(d.tmp, 'nb-lab-failed-unit'));
  rmSync(join(d.tmp, 'nb-lab-failed-unit'), { force: true });
  if (m) {
    writeShims(d, m, Math.floor(Date.now() / 1000), failedUnit);
    const cache = m.cache?.enable !== false && m.cache?.substituter ? m.cache : null;
    writeFileSync(join(d.etcNix, 'nix.conf'), [
      '# WARNING: this file is generated from the nix.* options in',
      '# your NixOS configuration, typically',
      '# /etc/nixos/configuration.nix.  Do not edit it!',
      'build-users-group = nixbld',
      ...(cache ? [`substituters = ${cache.substituter}`, `trusted-public-keys = ${cache.publicKey ?? ''}`] : []),
      '',
    ].join('\n'));
  }
  symlinkSync(sys, join(d.run, 'current-system'));
  symlinkSync(sys, join(d.run, 'booted-system'));
}

/** A system without the installed NixOS running (kexec installer, rescue): /run holds only sshd's dir. */
export function leaveInstalledSystem(d: Pick<InstalledDirs, 'run' | 'etcNix'>): void {
  for (const e of readdirSync(d.run)) if (e !== 'sshd') rmSync(join(d.run, e), { recursive: true, force: true });
  rmSync(join(d.etcNix, 'nix.conf'), { force: true });
  mkdirSync(join(d.run, 'sshd'), { recursive: true });
}

/**
 * FAKE system tools of an installed NixOS host (test/health/nixos-host.ts): systemd, util-linux and
 * coreutils cannot report a machine that is not there, so these print what the real ones print on
 * one, for exactly the arguments the health script passes. Each format names its source.
 */

export type BackupState = 'ok' | 'running' | 'failed-before-reboot';
export type SwapState = 'disk' | 'zram-only' | 'busybox';

export interface ToolCase {
  failedUnits: string[];
  backup: BackupState;
  swap: SwapState;
  bootAutomount: boolean;
  /** Seconds since the epoch of "now" on the host (boot and backup times derive from it). */
  now: number;
}

const sh = (lines: string[]) => ['#!/bin/sh', '# FAKE (test/health/nixos-tools.ts): prints what the real tool prints on a NixOS host', ...lines, ''].join('\n');
/** systemd's timestamp format (format_timestamp: "%a %Y-%m-%d %H:%M:%S %Z"). */
export function sdTime(epoch: number): string {
  const d = new Date(epoch * 1000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!;
  return `${day} ${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
const pf = (s: string) => `printf '%s\\n' '${s.replace(/'/g, `'\\''`)}'`;

/**
 * systemctl. Sources (systemd v256): `is-system-running` prints the manager state
 * (src/systemctl/systemctl-is-system-running.c); `list-units --plain --no-legend` prints UNIT LOAD
 * ACTIVE SUB DESCRIPTION (systemctl-list-units.c); `list-timers` NEXT LEFT LAST PASSED UNIT ACTIVATES,
 * "-" for an empty cell (systemctl-list-timers.c, table_set_empty_string); `show -p` prints NAME=VALUE,
 * timestamps as format_timestamp and empty when unset (src/shared/bus-print-properties.c). While a
 * timer's oneshot service runs, the service is "activating" and the timer's NextElapseUSecRealtime is
 * empty: src/core/timer.c computes the next elapse in timer_enter_waiting, which runs again only when
 * the triggered unit has finished (as issue 19 observed on real hosts).
 */
export function systemctlShim(c: ToolCase): string {
  const unit = 'restic-backups-daily';
  const lastTrigger = c.now - 6 * 3600;
  const next = c.now + 18 * 3600;
  const bootAt = c.now - 2 * 3600;
  let timer: string[];
  let service: string[];
  let listTimer: string;
  if (c.backup === 'running') {
    timer = ['ActiveState=active', 'NextElapseUSecRealtime=', `LastTriggerUSec=${sdTime(c.now - 60)}`];
    service = ['ActiveState=activating', 'Result=success', 'ExecMainStatus=0', 'ExecMainExitTimestamp=', 'InvocationID=4f2b0c1de3a94b6f8a7e5d3c2b1a0f9e'];
    listTimer = `- - ${sdTime(c.now - 60)} 1min ago ${unit}.timer ${unit}.service`;
  } else if (c.backup === 'failed-before-reboot') {
    // The run failed 6 h ago, the host rebooted 2 h ago: the fresh service unit has never run (Result
    // resets to "success"); Persistent=true keeps LastTriggerUSec from the timer's stamp file.
    timer = ['ActiveState=active', `NextElapseUSecRealtime=${sdTime(next)}`, `LastTriggerUSec=${sdTime(lastTrigger)}`];
    service = ['ActiveState=inactive', 'Result=success', 'ExecMainStatus=0', 'ExecMainExitTimestamp=', 'InvocationID='];
    listTimer = `${sdTime(next)} 18h left ${sdTime(lastTrigger)} 6h ago ${unit}.timer ${unit}.service`;
  } else {
    const exited = Math.max(lastTrigger, bootAt + 600);
    timer = ['ActiveState=active', `NextElapseUSecRealtime=${sdTime(next)}`, `LastTriggerUSec=${sdTime(exited - 120)}`];
    service = ['ActiveState=inactive', 'Result=success', 'ExecMainStatus=0', `ExecMainExitTimestamp=${sdTime(exited)}`, 'InvocationID=9d8c7b6a5f4e4d3c2b1a0f9e8d7c6b5a'];
    listTimer = `${sdTime(next)} 18h left ${sdTime(exited - 120)} 1h ago ${unit}.timer ${unit}.service`;
  }
  const failed = c.failedUnits.map((u) => `${u} loaded failed failed ${u.replace(/\.service$/, '')}`);
  return sh([
    'case "$*" in',
    `  is-system-running*) echo ${c.failedUnits.length ? 'degraded' : 'running'} ;;`,
    `  *--failed*) ${failed.length ? failed.map(pf).join('; ') : ':'} ;;`,
    `  list-timers*) ${pf(listTimer)} ;;`,
    `  *${unit}.timer) ${timer.map(pf).join('; ')} ;;`,
    `  *${unit}.service) ${service.map(pf).join('; ')} ;;`,
    '  *) echo "Unknown command verb $1." >&2; exit 1 ;;',
    'esac',
  ]);
}

/**
 * journalctl -o json: one JSON object per line, every value a string, the cursor, timestamps and boot
 * id first, then the fields --output-fields named (src/shared/logs-show.c output_json). PID 1 logs a
 * failed run as "Failed with result 'exit-code'." with MESSAGE_ID d9b373ed… and UNIT_RESULT
 * (src/core/unit.c unit_log_failure, src/systemd/sd-messages.h).
 */
export function journalctlShim(c: ToolCase): string {
  if (c.backup !== 'failed-before-reboot') return sh([':']);
  const at = (c.now - 6 * 3600 + 95) * 1e6;
  const line = JSON.stringify({
    __CURSOR: 's=0b1c2d3e4f5a4b6c8d7e9f0a1b2c3d4e;i=1a2b;b=7e6d5c4b3a2940f18e7d6c5b4a392817;m=5e3d2c;t=' + at.toString(16) + ';x=1f2e3d4c5b6a7980',
    __REALTIME_TIMESTAMP: String(at), __MONOTONIC_TIMESTAMP: '6177836', _BOOT_ID: '7e6d5c4b3a2940f18e7d6c5b4a392817',
    __SEQNUM: '6699', __SEQNUM_ID: '0b1c2d3e4f5a4b6c8d7e9f0a1b2c3d4e',
    MESSAGE_ID: 'd9b373ed55a64feb8242e02dbe79a49c', UNIT_RESULT: 'exit-code',
  });
  return sh(['case "$*" in', `  *UNIT=restic-backups-daily.service*) ${pf(line)} ;;`, 'esac']);
}

/**
 * findmnt -rn -o TARGET,SOURCE,FSTYPE,OPTIONS (util-linux misc-utils/findmnt.c, raw output: blanks
 * escaped as \x20). An x-systemd.automount /boot not yet accessed is systemd's autofs mount only.
 */
export function findmntShim(c: ToolCase): string {
  const rows = [
    '/ /dev/vda2 ext4 rw,relatime',
    '/proc proc proc rw,nosuid,nodev,noexec,relatime',
    c.bootAutomount
      ? '/boot systemd-1 autofs rw,relatime,fd=54,pgrp=1,timeout=120,minproto=5,maxproto=5,direct,pipe_ino=13393'
      : '/boot /dev/vda1 vfat rw,relatime,fmask=0077,dmask=0077,codepage=437,iocharset=iso8859-1,shortname=mixed,errors=remount-ro',
    '/run/agenix.d none ramfs rw,nosuid,nodev,relatime,mode=751',
  ];
  return sh([rows.map(pf).join('; ')]);
}

/** swapon --show=NAME,TYPE,SIZE --noheadings --bytes --raw (util-linux sys-utils/swapon.c); zram's TYPE is "partition". */
export function swaponShim(c: ToolCase): string | null {
  if (c.swap === 'busybox') return null; // the real busybox applet is linked instead
  return sh([pf(c.swap === 'zram-only' ? '/dev/zram0 partition 4294963200' : '/dev/vda3 partition 2147479552')]);
}

/** /proc/swaps as the kernel prints it (mm/swapfile.c swap_show: padded path, then tab-separated, KiB). */
export function procSwaps(): string {
  return 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vda3                               partition\t2097148\t\t0\t\t-2\n';
}

/** df -Pk (POSIX format, coreutils src/df.c), timedatectl show -p (NAME=yes|no), lsblk (no crypt rows). */
export function otherShims(): Record<string, string> {
  return {
    df: sh([pf('Filesystem     1024-blocks    Used Available Capacity Mounted on'), pf('/dev/vda2         40972512 9132080  29727008      24% /'), pf('/dev/vda1           523248   97312    425936      19% /boot')]),
    timedatectl: sh([pf('NTP=yes'), pf('NTPSynchronized=yes')]),
    lsblk: sh([pf('vda disk'), pf('vda1 part'), pf('vda2 part'), pf('vda3 part')]),
    // No network here: the substituter answers as a Nix binary cache does (nix-cache-info), with the
    // status line the script's own -w format adds.
    curl: sh([pf('StoreDir: /nix/store'), pf('WantMassQuery: 1'), pf('Priority: 40'), pf(''), pf('@@http 200')]),
  };
}

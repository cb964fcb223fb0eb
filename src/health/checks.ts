/**
 * Facts + expectations → checks. Pure: the same facts give the same checks, in a fixed order
 * (system, disks, identity, secrets, cache, backups, time, space). Each check is ok / warn / fail
 * with a one-line reason and a fix hint, or n/a when it does not apply to this host.
 * The service checks (secrets, cache, backups) live in checks-services.ts.
 */
import type { HealthExpectations } from './expect.js';
import type { HealthFacts } from './facts.js';
import { check, type HealthCheck } from './report.js';
import { buildBackupChecks, buildCacheChecks, buildSecretChecks } from './checks-services.js';
import { buildAccessCheck } from './checks-access.js';

const base = (p: string) => p.split('/').pop() ?? p;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
const list = (xs: readonly string[], n = 3) => xs.slice(0, n).join(', ') + (xs.length > n ? ` and ${xs.length - n} more` : '');

function buildSystemChecks(f: HealthFacts, e: HealthExpectations): HealthCheck[] {
  const s = f.system;
  const out: HealthCheck[] = [];
  if (!f.complete) out.push(check('system.report', 'system', 'warn', 'the report was cut off; later sections may be missing', 'run `bootstrap status` again; if it repeats, the host may be overloaded'));
  if (s.os.id !== null && s.os.id !== 'nixos') {
    out.push(check('system.os', 'system', 'fail', `the host runs ${s.os.id}${s.os.version ? ` ${s.os.version}` : ''}, not NixOS`, `the install did not take: run \`bootstrap rebuild ${e.host}\``));
  } else if (s.os.variant === 'installer') {
    out.push(check('system.os', 'system', 'fail', 'the host runs the NixOS installer, not the installed system', 'it did not boot from its disk: check the boot order or firmware on the console'));
  }
  const state = s.state;
  if (state === null) out.push(check('system.state', 'system', 'warn', 'cannot tell the system state (no systemctl)', 'log in and run `systemctl is-system-running`'));
  else if (state === 'running') out.push(check('system.state', 'system', 'ok', 'running'));
  else if (state === 'degraded') out.push(check('system.state', 'system', 'warn', 'degraded: some units failed', '`systemctl --failed` lists them'));
  else if (state === 'starting' || state === 'initializing') out.push(check('system.state', 'system', 'warn', `still ${state}`, 'wait a minute and run `bootstrap status` again'));
  else out.push(check('system.state', 'system', 'fail', `system state is "${state}"`, 'log in on the console: `systemctl is-system-running`, `journalctl -b -p err`'));

  const failed = s.failedUnits;
  if (failed === null) out.push(check('system.failed-units', 'system', 'warn', 'cannot list failed units (no systemctl)'));
  else if (failed.length === 0) out.push(check('system.failed-units', 'system', 'ok', 'no failed units'));
  else out.push(check('system.failed-units', 'system', 'fail', `${failed.length} failed unit${failed.length > 1 ? 's' : ''}: ${list(failed, 5)}`, `see why: \`journalctl -b -u ${failed[0]}\``));

  const cur = s.currentSystem;
  const gen = s.generation === null ? '' : ` (generation ${s.generation})`;
  // A specialisation of the default system counts as that system (nixpkgs links each one at
  // $toplevel/specialisation/NAME; switching to it leaves the profile on the parent).
  const special = cur === null ? undefined : s.specialisations.find((x) => x.path === cur);
  const spec = special && s.profileSystem !== null ? { name: special.name, parent: s.profileSystem } : null;
  if (cur === null) {
    out.push(check('system.generation', 'system', 'fail', 'no /run/current-system: this is not a booted NixOS system', `run \`bootstrap rebuild ${e.host}\``));
  } else if (e.builtToplevel === null) {
    out.push(check('system.generation', 'system', 'ok', `runs ${base(cur)}${gen}; the system bootstrap built is not known here (built on the target)`));
  } else if (cur === e.builtToplevel) {
    out.push(check('system.generation', 'system', 'ok', `runs the system bootstrap built${gen}`));
  } else if (spec && spec.parent === e.builtToplevel) {
    out.push(check('system.generation', 'system', 'ok', `runs specialisation "${spec.name}" of the system bootstrap built${gen}`));
  } else {
    const msg = `runs ${base(cur)}${gen}, not the built ${base(e.builtToplevel)}`;
    out.push(e.context === 'install'
      ? check('system.generation', 'system', 'fail', msg, 'the installed system is not the one preflight built: check the install log, then `bootstrap rebuild --from preflight`')
      : check('system.generation', 'system', 'warn', `${msg} (deployed since?)`, `expected after a nixos-rebuild; otherwise reinstall with \`bootstrap rebuild ${e.host}\``));
  }
  if (cur !== null && s.profileSystem !== null && s.profileSystem !== cur && !spec) {
    out.push(check('system.profile', 'system', 'warn', `the default boot entry is ${base(s.profileSystem)}, but ${base(cur)} is running`, 'a switch did not finish, or the system was rolled back: `nixos-rebuild switch` or `reboot`'));
  }
  out.push(buildRebootCheck(f), buildRevisionCheck(f));
  const up = s.bootEpoch !== null && s.nowEpoch !== null ? s.nowEpoch - s.bootEpoch : null;
  const since = s.bootEpoch !== null ? new Date(s.bootEpoch * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : 'unknown';
  const upText = up === null ? '' : up < 3600 ? `, up ${Math.round(up / 60)} min` : up < 172800 ? `, up ${Math.round(up / 3600)} h` : `, up ${Math.round(up / 86400)} d`;
  out.push(check('system.boot', 'system', 'ok', `booted ${since}${upText}, kernel ${s.kernel ?? 'unknown'}`));
  return out;
}

const BOOT_FILES = [['kernel', 'kernel'], ['initrd', 'initrd'], ['kernelModules', 'kernel-modules']] as const;

/**
 * Whether the host needs a reboot, as NixOS's auto-upgrade decides it (allowReboot): the booted
 * system's kernel, initrd or kernel-modules differ from the running configuration's. null when the
 * host cannot tell (no /run/booted-system). Pure.
 */
export function needsReboot(f: HealthFacts): { needed: boolean; differ: string[] } | null {
  const { booted, current } = f.system.bootFiles;
  if (booted.kernel === null || current.kernel === null) return null;
  const differ = BOOT_FILES.filter(([k]) => booted[k] !== current[k]).map(([, name]) => name);
  return { needed: differ.length > 0, differ };
}

function buildRebootCheck(f: HealthFacts): HealthCheck {
  const r = needsReboot(f);
  if (r === null) return check('system.reboot', 'system', 'n/a', 'cannot tell whether a reboot is due (no /run/booted-system kernel)');
  return r.needed
    ? check('system.reboot', 'system', 'warn', `needs a reboot: the running configuration has another ${list(r.differ)} than the booted one`, 'reboot when convenient (`systemctl reboot`); until then the old kernel runs')
    : check('system.reboot', 'system', 'ok', 'no reboot needed: booted kernel, initrd and modules are current');
}

function buildRevisionCheck(f: HealthFacts): HealthCheck {
  const r = f.system.revision;
  return r === null
    ? check('system.revision', 'system', 'n/a', 'the flake sets no system.configurationRevision (`nixos-version --configuration-revision`)')
    : check('system.revision', 'system', 'ok', `runs flake revision ${r}`);
}

function buildDiskChecks(f: HealthFacts, e: HealthExpectations): HealthCheck[] {
  const L = e.layout;
  if (f.mounts === null) return [check('disks.root', 'disks', 'warn', 'cannot read the mounts (no findmnt, no /proc/self/mounts)', 'log in and run `findmnt`')];
  const mounts = f.mounts;
  const at = (p: string) => mounts.filter((m) => m.target === p).pop();
  const out: HealthCheck[] = [];
  const root = at('/');
  if (!root) out.push(check('disks.root', 'disks', 'fail', 'nothing is mounted on /', 'log in on the console'));
  else if (!L) out.push(check('disks.root', 'disks', 'ok', `/ is ${root.fstype} on ${root.source} (the manifest's layout is unknown)`));
  else {
    const problems: string[] = [];
    if (L.rootFs && root.fstype !== L.rootFs) problems.push(`${root.fstype}, not ${L.rootFs}`);
    if (L.rootFs === 'btrfs' && root.fstype === 'btrfs' && !root.options.includes('subvol=/root')) problems.push('not the /root subvolume');
    if (L.raid === 'mdadm' && !/^\/dev\/md/.test(root.source)) problems.push(`on ${root.source}, not an md mirror`);
    out.push(problems.length
      ? check('disks.root', 'disks', 'fail', `/ is ${problems.join(', ')} (layout ${L.name})`, `the disk does not match the plan; reinstalling (\`bootstrap rebuild ${e.host}\`, which wipes it) applies it`)
      : check('disks.root', 'disks', 'ok', `/ is ${root.fstype} on ${root.source} as planned (${L.name})`));
  }

  // An automount (x-systemd.automount) shows as autofs until first access: judge what it mounts, the
  // real filesystem stacked on it when triggered, else its fstab entry.
  const bootAll = mounts.filter((m) => m.target === '/boot');
  const bootFs = bootAll.filter((m) => m.fstype !== 'autofs').pop();
  const bootTab = bootAll.length && !bootFs ? f.fstab?.filter((m) => m.target === '/boot' && m.fstype !== 'autofs').pop() : undefined;
  const boot = bootFs ?? (bootTab ? { ...bootTab, source: `${bootTab.source}, automounted on access` } : bootAll.pop());
  if (f.system.efi === true) {
    out.push(boot?.fstype === 'vfat'
      ? check('disks.boot', 'disks', 'ok', `/boot is the ESP (vfat on ${boot.source})`)
      : check('disks.boot', 'disks', 'fail', boot ? `/boot is ${boot.fstype}, not the vfat ESP` : 'the ESP is not mounted on /boot', 'the next nixos-rebuild cannot install the boot loader: `mount /boot`, check fileSystems."/boot"'));
  } else if (boot) out.push(check('disks.boot', 'disks', 'ok', `/boot is ${boot.fstype} on ${boot.source}`));
  else out.push(check('disks.boot', 'disks', 'n/a', 'BIOS boot: /boot is on the root filesystem'));

  if (L && L.mounts.length) {
    const missing = L.mounts.filter((m) => {
      const got = at(m.mountpoint);
      return !got || (m.subvolume !== undefined && !got.options.includes(`subvol=${m.subvolume}`));
    });
    out.push(missing.length
      ? check('disks.mounts', 'disks', 'fail', `not mounted as planned: ${list(missing.map((m) => m.mountpoint + (m.subvolume ? ` (subvol ${m.subvolume})` : '')))}`, 'check fileSystems in hardware/disko config and `journalctl -b -u local-fs.target`')
      : check('disks.mounts', 'disks', 'ok', `${L.mounts.length} planned mount${L.mounts.length > 1 ? 's' : ''} in place: ${list(L.mounts.map((m) => m.mountpoint), 6)}`));
  }

  // zram is compressed memory (zramSwap), not the disk swap the plan made: it does not count.
  const swaps = f.swaps?.filter((x) => !/^\/dev\/zram\d+$/.test(x.name)) ?? null;
  const zram = f.swaps && f.swaps.length !== swaps?.length ? ' (zram not counted)' : '';
  const active = swaps?.reduce((n, s) => n + (s.sizeBytes ?? 0), 0) ?? 0;
  if (swaps === null) out.push(check('disks.swap', 'disks', 'warn', 'cannot tell whether swap is active (no swapon, no /proc/swaps)'));
  else if (!L || L.swapBytes === null) out.push(check('disks.swap', 'disks', 'n/a', `no swap size in the manifest; ${swaps.length ? `${gib(active)} active` : 'none active'}`));
  else if (L.swapBytes === 0) out.push(check('disks.swap', 'disks', 'n/a', `no swap planned${swaps.length ? `; ${gib(active)} active anyway` : ''}`));
  else out.push(swaps.length
    ? check('disks.swap', 'disks', 'ok', `${gib(active)} of swap active (planned ${gib(L.swapBytes)})`)
    : check('disks.swap', 'disks', 'fail', `no swap active, planned ${gib(L.swapBytes)}${zram}`, 'check swapDevices and `journalctl -b | grep -i swap`'));

  if (L?.encrypted) {
    const onCrypt = root ? /^\/dev\/mapper\//.test(root.source) : false;
    out.push(f.cryptDevices.length && onCrypt
      ? check('disks.luks', 'disks', 'ok', `LUKS opened: ${list(f.cryptDevices)}`)
      : check('disks.luks', 'disks', 'fail', f.cryptDevices.length ? `/ is not on the opened LUKS device (${root?.source ?? 'nothing on /'})` : 'no LUKS device is open, but the plan encrypts the disk', 'check boot.initrd.luks.devices and the console at boot'));
  } else out.push(check('disks.luks', 'disks', 'n/a', 'the plan does not encrypt the disk'));
  return out;
}

function buildTimeCheck(f: HealthFacts): HealthCheck {
  const t = f.time;
  if (t === null) return check('time.sync', 'time', 'warn', 'cannot tell whether the clock is synchronized (no timedatectl)');
  if (t.synchronized) return check('time.sync', 'time', 'ok', 'clock synchronized (NTP)');
  return check('time.sync', 'time', 'warn', t.ntp === false ? 'clock not synchronized: NTP is off' : 'clock not synchronized yet', t.ntp === false ? 'enable it: services.timesyncd.enable = true (or `timedatectl set-ntp true`)' : 'check that the host reaches its NTP servers (`timedatectl timesync-status`)');
}

function buildSpaceChecks(f: HealthFacts): HealthCheck[] {
  if (f.space === null) return [check('space', 'space', 'warn', 'cannot tell free space (no df)')];
  return ['/', '/nix', '/boot'].flatMap((mount) => {
    const s = f.space!.find((x) => x.mount === mount);
    if (!s) return [];
    const free = `${gib(s.availKiB * 1024)} free (${s.usePercent}% used)`;
    const id = `space${mount === '/' ? '.root' : mount.replace('/', '.')}`;
    const hint = mount === '/boot' ? 'remove old generations: `nix-collect-garbage --delete-older-than 14d && nixos-rebuild boot`' : 'free space: `nix-collect-garbage --delete-older-than 14d`, or grow the disk';
    const warnAt = mount === '/boot' ? 80 : 85;
    if (s.usePercent >= 95 || s.availKiB < 100 * 1024) return [check(id, 'space', 'fail', `${mount}: ${free}`, hint)];
    if (s.usePercent >= warnAt) return [check(id, 'space', 'warn', `${mount}: ${free}`, hint)];
    return [check(id, 'space', 'ok', `${mount}: ${free}`)];
  });
}

/** All checks for one host, in report order. `hostKey` is what the pinned connection saw. */
export function buildHealthChecks(f: HealthFacts, e: HealthExpectations, hostKey: { fingerprint: string; pinFile: string }): HealthCheck[] {
  const before = [
    ...buildSystemChecks(f, e),
    ...buildDiskChecks(f, e),
    check('identity.host-key', 'identity', 'ok', `presents ${hostKey.fingerprint}, the key pinned in ${hostKey.pinFile}`),
  ];
  const after = [
    ...buildSecretChecks(f, e),
    ...buildCacheChecks(f, e),
    ...buildBackupChecks(f, e),
    buildTimeCheck(f),
    ...buildSpaceChecks(f),
  ];
  // How the report ran (issue 18): after the host key, counting what a non-root login left out.
  const access = buildAccessCheck(f, [...before, ...after]);
  return [...before, ...(access ? [access] : []), ...after];
}

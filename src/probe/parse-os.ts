/** Probe sections about the running system: OS identity, installer/rescue detection, access, tools. Pure. */
import type { HardwareReport } from './report.js';
import { clean, parseKeyValues, toInt } from './parse-sections.js';

type Lines = readonly string[] | undefined;

/** os-release values may be quoted ("…" or '…') with backslash escapes. */
export function parseOsRelease(lines: Lines): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines ?? []) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if (/^".*"$/.test(v)) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    else if (/^'.*'$/.test(v)) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** Hoster rescue systems: Hetzner's motd says "Hetzner Rescue System", OVH's rescue hosts are "rescue…" / "rescue-customer-…". */
const RESCUE_MOTD = /hetzner rescue system|rescue-customer|ovh.*rescue|rescue.*ovh|rescue mode|rescue system/i;
const RESCUE_HOST = /^rescue([.-]|$)|rescue-customer/i;

export function parseOs(
  osRelease: Lines,
  markers: Lines,
  motd: Lines,
  system: { kernel: string | null; hostname: string | null },
  hasNixosFacter: boolean,
): HardwareReport['os'] {
  const rel = parseOsRelease(osRelease);
  const mk = parseKeyValues(markers ?? []);
  const id = clean(rel.ID);
  const isNixos = id === 'nixos' || mk.nixos === '1';
  // The installer ISO runs from a squashfs store (/nix/.ro-store), mounts /iso and sets VARIANT_ID=installer.
  const isInstaller = isNixos && (rel.VARIANT_ID === 'installer' || mk.ro_store === '1' || mk.iso === '1' || mk.installer_marker === '1' || mk.installer_cmdline === '1');
  const motdText = (motd ?? []).join('\n');
  const isRescue = !isNixos && (RESCUE_MOTD.test(motdText) || RESCUE_HOST.test(system.hostname ?? '') || mk.rescue_cmdline === '1');
  return {
    id,
    name: clean(rel.PRETTY_NAME) ?? clean(rel.NAME),
    versionId: clean(rel.VERSION_ID),
    kernel: system.kernel,
    isNixos,
    isInstaller,
    isRescue,
    hasNixosFacter,
  };
}

export function parseAccess(lines: Lines): HardwareReport['access'] | null {
  if (!lines) return null;
  const kv = parseKeyValues(lines);
  const uid = toInt(kv.uid);
  const user = clean(kv.user) ?? (uid === 0 ? 'root' : null);
  if (uid === null && !user) return null;
  const sudo = kv.sudo === 'passwordless' || kv.sudo === 'needs-password' ? kv.sudo : 'none';
  return { user: user ?? `uid ${uid}`, isRoot: uid === 0, sudo };
}

export function parseTools(lines: Lines): HardwareReport['tools'] {
  const kv = parseKeyValues(lines ?? []);
  const has = (k: string) => kv[k] === '1';
  return { nixosFacter: has('nixos-facter'), nix: has('nix'), kexec: has('kexec'), tar: has('tar'), cpio: has('cpio'), setsid: has('setsid'), lsblk: has('lsblk') };
}

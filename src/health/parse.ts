/**
 * The health script's output → HealthFacts. Pure. Every section is read on its own, so a garbled
 * or missing one degrades only the facts it carries (they become null, and the checks say so).
 */
import { z } from 'zod';
import { clean, parseKeyValues, parseRecords, splitMarkedOutput, toInt, type ProbeSections } from '../probe/parse-sections.js';
import { HealthFactsSchema, type BackupTimer, type HealthFacts, type SopsManifest } from './facts.js';


export type HealthSections = ProbeSections;

/** Split the output into sections; anything a login shell printed before the header is ignored. */
export function splitHealthOutput(stdout: string): HealthSections {
  return splitMarkedOutput(stdout, 'health');
}

const yesNo = (v: string | undefined): boolean | null => (v === 'yes' ? true : v === 'no' ? false : null);
const missingTool = (diags: string[], section: string, tool: string) => diags.includes(`${section}: missing ${tool}`);

/** findmnt -r escapes as \xHH, /proc/self/mounts as \NNN (octal). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** "value present path" lines (`path=1 /run/secrets/x`) → { path, present }. */
function fileState(v: string | undefined): { path: string; present: boolean } | null {
  const m = v === undefined ? null : /^([01]) (.+)$/.exec(v);
  return m ? { present: m[1] === '1', path: m[2]! } : null;
}

function parseBootFiles(lines: string[], which: 'booted' | 'current') {
  const get = (f: string) => {
    const hit = lines.filter((l) => l.startsWith(`bootfile=${which} ${f} `)).pop();
    return hit ? clean(hit.slice(`bootfile=${which} ${f} `.length)) : null;
  };
  return { kernel: get('kernel'), initrd: get('initrd'), kernelModules: get('kernel-modules') };
}

function parseSystem(lines: string[], diags: string[]): HealthFacts['system'] {
  const kv = parseKeyValues(lines);
  const link = clean(kv.profile_link);
  const gen = link ? /^system-(\d+)-link$/.exec(link.split('/').pop()!) : null;
  return {
    state: clean(kv.state),
    failedUnits: missingTool(diags, 'system', 'systemctl') ? null : lines.filter((l) => l.startsWith('failed=')).map((l) => l.slice(7).trim()).filter(Boolean),
    bootEpoch: toInt(kv.boot_epoch),
    nowEpoch: toInt(kv.now_epoch),
    kernel: clean(kv.kernel),
    hostname: clean(kv.hostname),
    os: { id: clean(kv.os_id), variant: clean(kv.os_variant), version: clean(kv.os_version) },
    currentSystem: clean(kv.current),
    bootedSystem: clean(kv.booted),
    generation: gen ? Number(gen[1]) : null,
    profileSystem: clean(kv.profile),
    efi: kv.efi === '1' ? true : kv.efi === '0' ? false : null,
    currentEpoch: toInt(kv.current_epoch),
    bootFiles: { booted: parseBootFiles(lines, 'booted'), current: parseBootFiles(lines, 'current') },
    specialisations: lines.filter((l) => l.startsWith('specialisation=')).flatMap((l) => {
      const m = /^specialisation=(\S+) (\/\S+)$/.exec(l.trim());
      return m ? [{ name: m[1]!, path: m[2]! }] : [];
    }),
    revision: clean(kv.revision),
    profileEpoch: toInt(kv.profile_epoch),
  };
}

/** `systemctl show nixos-upgrade.service`: null unless the unit is loaded (the host auto-upgrades). */
function parseUpgrade(lines: string[] | undefined): HealthFacts['autoUpgrade'] {
  const kv = parseKeyValues(lines ?? []);
  if (kv.LoadState !== 'loaded') return null;
  const last = clean(kv.ExecMainExitTimestamp);
  return { result: clean(kv.Result), lastRun: last && last !== 'n/a' ? last : null, active: clean(kv.ActiveState) };
}

function parseMounts(lines: string[] | undefined): HealthFacts['mounts'] {
  if (!lines) return null;
  const format = parseKeyValues(lines.slice(0, 1)).format;
  if (!format) return null;
  return lines.slice(1).flatMap((l) => {
    const f = l.trim().split(/\s+/);
    if (f.length < 4) return [];
    const [target, source] = format === 'proc' ? [f[1]!, f[0]!] : [f[0]!, f[1]!];
    return [{ target: unescapeMountField(target), source: unescapeMountField(source), fstype: f[2]!, options: f[3]!.split(',') }];
  });
}

/** /etc/fstab: device, mountpoint, type, options (fstab(5); blanks in fields are octal escapes). */
function parseFstab(lines: string[] | undefined): HealthFacts['fstab'] {
  if (!lines) return null;
  return lines.flatMap((l) => {
    const f = l.trim().split(/\s+/);
    if (f.length < 4 || f[0]!.startsWith('#')) return [];
    return [{ target: unescapeMountField(f[1]!), source: unescapeMountField(f[0]!), fstype: f[2]!, options: f[3]!.split(',') }];
  });
}

function parseSwaps(lines: string[] | undefined): HealthFacts['swaps'] {
  if (!lines) return null;
  const format = parseKeyValues(lines.slice(0, 1)).format;
  if (!format) return null;
  return lines.slice(1).flatMap((l) => {
    const f = l.trim().split(/\s+/);
    if (f.length < 3 || !f[0]) return [];
    const size = toInt(f[2]);
    return [{ name: unescapeMountField(f[0]), type: f[1]!, sizeBytes: size === null ? null : format === 'proc' ? size * 1024 : size }];
  });
}

function parseSpace(lines: string[] | undefined, diags: string[]): HealthFacts['space'] {
  if (!lines || missingTool(diags, 'space', 'df')) return null;
  const seen = new Set<string>();
  return lines.flatMap((l) => {
    const f = l.trim().split(/\s+/);
    if (f.length < 6) return [];
    const mount = f.slice(5).join(' ');
    const size = toInt(f[1]);
    const avail = toInt(f[3]);
    const use = toInt(f[4]!.replace(/%$/, ''));
    if (seen.has(mount) || size === null || avail === null || use === null) return [];
    seen.add(mount);
    return [{ mount, device: f[0]!, sizeKiB: size, availKiB: avail, usePercent: use }];
  });
}

const SopsJson = z.looseObject({
  secrets: z.array(z.looseObject({ name: z.string(), path: z.string() })).nullish(),
  templates: z.array(z.looseObject({ name: z.string(), path: z.string() })).nullish(),
  symlinkPath: z.string().nullish(),
});

function parseSops(lines: string[] | undefined): SopsManifest[] {
  return parseRecords(lines ?? []).map((r) => {
    let secrets: SopsManifest['secrets'] = null;
    let symlinkPath: string | null = null;
    try {
      const j = SopsJson.parse(JSON.parse(r.values.json ?? ''));
      secrets = [...(j.secrets ?? []), ...(j.templates ?? [])].map((s) => ({ name: s.name, path: s.path }));
      symlinkPath = j.symlinkPath ?? null;
    } catch {
      /* unreadable manifest: secrets stay null */
    }
    return {
      manifest: r.name,
      secrets,
      symlinkPath,
      symlinkTarget: clean(r.values.symlink),
      symlinkEpoch: toInt(r.values.symlink_epoch),
      paths: r.all.filter(([k]) => k === 'path').map(([, v]) => fileState(v)).filter((x) => x !== null),
    };
  });
}

function parseAgenix(lines: string[] | undefined): HealthFacts['agenix'] {
  if (!lines?.length) return null;
  const kv = parseKeyValues(lines);
  if (!kv.script) return null;
  const secrets: NonNullable<HealthFacts['agenix']>['secrets'] = [];
  let pendingTrue: { path: string; present: boolean } | null = null;
  for (const line of lines) {
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'T') pendingTrue = fileState(value);
    else if (key === 'D') {
      secrets.push({ source: value, truePath: pendingTrue, link: null });
      pendingTrue = null;
    } else if (key === 'L' && secrets.length) secrets[secrets.length - 1]!.link = fileState(value);
  }
  return { script: kv.script, secretsDir: clean(kv.secrets_dir), generation: clean(kv.generation), secrets };
}

function parseCache(lines: string[] | undefined, diags: string[]): HealthFacts['cache'] {
  const all = lines ?? [];
  const firstRecord = all.findIndex((l) => l.startsWith('- '));
  const top = firstRecord < 0 ? all : all.slice(0, firstRecord);
  const kv = parseKeyValues(top);
  const words = (key: string) => top.filter((l) => l.startsWith(`${key}=`)).flatMap((l) => l.slice(key.length + 1).trim().split(/\s+/)).filter(Boolean);
  const confFound = kv.conf === '1';
  return {
    confFound,
    substituters: words('substituters'),
    trustedPublicKeys: words('trusted-public-keys'),
    netrc: fileState(kv.netrc),
    includeMissing: top.filter((l) => l.startsWith('include_missing=')).map((l) => l.slice(16).trim()).filter(Boolean),
    ...(kv.netrc_readable === '0' ? { netrcReadable: false } : {}),
    probes: !confFound || missingTool(diags, 'cache', 'curl') ? null : parseRecords(all).map((r) => ({
      url: r.name,
      skipped: r.values.skipped !== undefined,
      curlExit: toInt(r.values.curl_exit),
      http: toInt(r.values.http),
      storeDir: clean(r.values.store_dir),
    })),
  };
}

const JournalEntry = z.looseObject({ MESSAGE_ID: z.string(), UNIT_RESULT: z.string().optional(), __REALTIME_TIMESTAMP: z.string().optional() });
const UNIT_SUCCESS = '7ad2d189f7e94e70a38c781354912448';

/** One `journalctl -o json` line (systemd's JSON export: every value a string) → the run's result. */
export function parseJournalResult(v: string | undefined): BackupTimer['journal'] {
  if (!v) return null;
  try {
    const j = JournalEntry.parse(JSON.parse(v));
    const us = j.__REALTIME_TIMESTAMP && /^\d+$/.test(j.__REALTIME_TIMESTAMP) ? Math.floor(Number(j.__REALTIME_TIMESTAMP) / 1e6) : null;
    return { result: j.MESSAGE_ID === UNIT_SUCCESS ? 'success' : j.UNIT_RESULT ?? 'failed', atEpoch: us };
  } catch {
    return null;
  }
}

function parseBackups(lines: string[] | undefined, diags: string[]): HealthFacts['backups'] {
  if (missingTool(diags, 'backups', 'systemctl') || !lines) return null;
  const na = (v: string | undefined) => {
    const c = clean(v);
    return c === null || c === 'n/a' || c === '0' ? null : c;
  };
  return parseRecords(lines).map((r) => ({
    unit: r.name,
    active: clean(r.values.ActiveState),
    next: na(r.values.NextElapseUSecRealtime),
    last: na(r.values.LastTriggerUSec),
    serviceActive: clean(r.values.service_ActiveState),
    serviceResult: clean(r.values.service_Result),
    serviceExitStatus: toInt(r.values.service_ExecMainStatus),
    serviceExitedAt: na(r.values.service_ExecMainExitTimestamp),
    serviceInvocation: clean(r.values.service_InvocationID),
    journal: parseJournalResult(r.values.journal),
  }));
}

/**
 * Parse the whole output. Throws (a plain Error) only when the header is missing: the remote shell
 * ran something else. A cut-off output parses with `complete: false`.
 */
export function parseHealthOutput(stdout: string): HealthFacts {
  const s = splitHealthOutput(stdout);
  if (!s.sawHeader) throw new Error('the output has no health report header');
  const sec = (n: string) => s.sections.get(n);
  const time = sec('time');
  const tkv = parseKeyValues(time ?? []);
  const keyFiles = parseRecords(sec('keyfiles') ?? []).map((r) => ({
    path: r.name,
    present: r.values.present === '1',
    mode: clean(r.values.mode),
    owner: clean(r.values.owner),
    ...(r.values.searchable === '0' ? { searchable: false } : {}),
  }));
  const akv = parseKeyValues(sec('access') ?? []);
  const facts: HealthFacts = {
    complete: s.complete,
    system: parseSystem(sec('system') ?? [], s.diagnostics),
    autoUpgrade: parseUpgrade(sec('upgrade')),
    mounts: parseMounts(sec('mounts')),
    fstab: parseFstab(sec('fstab')),
    swaps: parseSwaps(sec('swaps')),
    cryptDevices: (sec('crypt') ?? []).filter((l) => l.startsWith('crypt=')).map((l) => l.slice(6).trim()),
    space: parseSpace(sec('space'), s.diagnostics),
    time: time && !missingTool(s.diagnostics, 'time', 'timedatectl') ? { ntp: yesNo(tkv.NTP), synchronized: yesNo(tkv.NTPSynchronized) } : null,
    keyFiles,
    sops: parseSops(sec('sops')),
    agenix: parseAgenix(sec('agenix')),
    cache: parseCache(sec('cache'), s.diagnostics),
    backups: parseBackups(sec('backups'), s.diagnostics),
    diagnostics: s.diagnostics,
    access: sec('access') ? { uid: toInt(akv.uid), user: clean(akv.user), sudoUser: clean(akv.sudo_user) } : null,
  };
  return HealthFactsSchema.parse(facts);
}

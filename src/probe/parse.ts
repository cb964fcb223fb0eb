/**
 * The probe script's stdout (probe.sh) → a validated HardwareReport. Pure. Each section is
 * parsed on its own: a missing tool, a truncated or garbled section degrades its fields and adds
 * a warning. Only output that cannot describe a Linux machine we can install throws.
 */
import { failure } from '../errors.js';
import { HardwareReportSchema, type HardwareReport } from './report.js';
import { splitProbeOutput } from './parse-sections.js';
import { archFromCpu, parseArch, parseCpu, parseDmi, parseFirmware, parseMemoryBytes, parseSystem, parseVirt } from './parse-system.js';
import { parseAccess, parseOs, parseTools } from './parse-os.js';
import { parseDisks } from './parse-disks.js';
import { parseBattery, parseNics, parsePci, parseReach, parseRoutes, parseUsbBootDrivers, parseUsbControllers } from './parse-devices.js';
import { mergeFacter } from './merge-facter.js';

/** Sections every run of probe.sh prints; a missing one means the output was cut short or garbled. */
const EXPECTED = ['system', 'firmware', 'virt', 'cpu', 'memory', 'dmi', 'lsblk', 'sysblock', 'disk-by-id', 'disk-by-path', 'pci', 'usb', 'net', 'addr', 'route4', 'route6', 'power', 'os-release', 'os-markers', 'motd', 'access', 'tools'];

/**
 * Parse probe output. Throws failure 'probe-output' when the output has no probe header (the
 * remote command never ran our script) and 'probe-unsupported' for a non-Linux or non-x86_64/
 * aarch64 target.
 */
export function parseProbeOutput(stdout: string): HardwareReport {
  const parsed = splitProbeOutput(stdout);
  if (!parsed.sawHeader) {
    const first = stdout.trim().split('\n')[0]?.slice(0, 120) ?? '';
    throw failure('probe-output', `the target did not run the probe script${first ? ` (it printed: ${first})` : ' (no output)'}`,
      'check that the login shell can run `sh -s` and that nothing in the shell startup files exits early');
  }
  const s = parsed.sections;
  const warnings: string[] = [];
  for (const d of parsed.diagnostics) warnings.push(d);
  if (!parsed.complete) warnings.push('output: the probe output stopped before its end marker (connection dropped or script killed); later facts are missing');
  for (const name of EXPECTED) if (!s.has(name)) warnings.push(`output: section "${name}" is missing`);

  const system = parseSystem(s.get('system'));
  if (system.os && system.os !== 'Linux') {
    throw failure('probe-unsupported', `the target runs ${system.os}, not Linux`, 'boot the machine into a Linux rescue system or the NixOS installer and probe again');
  }
  const cpuParsed = parseCpu(s.get('cpu'));
  let arch = parseArch(system.machine);
  if (!arch) {
    if (system.machine) throw failure('probe-unsupported', `the target's architecture is ${system.machine}; only x86_64 and aarch64 are supported`);
    arch = archFromCpu(cpuParsed);
    if (!arch) throw failure('probe-output', 'the probe output does not say which CPU architecture the target has', 'run the probe again; if it keeps failing, run it with --debug and report the output');
    warnings.push('system: uname -m gave nothing; architecture read from /proc/cpuinfo');
  }

  let firmware = parseFirmware(s.get('firmware'));
  if (!firmware) {
    firmware = 'unknown';
    warnings.push('firmware: unknown (no /sys/firmware section)');
  }
  const dmiFull = parseDmi(s.get('dmi'));
  const dmi = { vendor: dmiFull.vendor, product: dmiFull.product, chassis: dmiFull.chassis };
  const virt = parseVirt(s.get('virt'), dmi);
  if (virt && !virt.detected) warnings.push(`virtualization: systemd-detect-virt unavailable; "${virt.virtualization}" inferred from DMI/cpuinfo`);
  if (!virt) warnings.push('virtualization: unknown; assumed none');

  let cpu = cpuParsed;
  if (!cpu) {
    cpu = { vendor: 'unknown', model: null, cores: 1, flags: [] };
    warnings.push('cpu: /proc/cpuinfo unreadable; vendor and cores unknown');
  }
  let memoryBytes = parseMemoryBytes(s.get('memory'));
  if (memoryBytes === null) {
    memoryBytes = 0;
    warnings.push('memory: MemTotal unreadable; reported as 0');
  }

  const disks = parseDisks({ lsblk: s.get('lsblk'), sysblock: s.get('sysblock'), byId: s.get('disk-by-id'), byPath: s.get('disk-by-path') }, warnings);
  const pci = parsePci(s.get('pci'), warnings);
  const tools = parseTools(s.get('tools'));
  let access = parseAccess(s.get('access'));
  if (!access) {
    access = { user: 'unknown', isRoot: false, sudo: 'none' };
    warnings.push('access: user and uid unknown');
  }

  const report: HardwareReport = {
    version: 1,
    source: 'probe',
    hostname: system.hostname,
    arch,
    firmware,
    virtualization: virt?.virtualization ?? 'none',
    cpu,
    memoryBytes,
    dmi,
    disks,
    pci,
    usbControllers: parseUsbControllers(s.get('usb'), pci),
    usbBootDrivers: parseUsbBootDrivers(s.get('usb-interfaces')),
    nics: parseNics(s.get('net'), s.get('addr')),
    defaultRoutes: [...parseRoutes(s.get('route4'), 'ipv4'), ...parseRoutes(s.get('route6'), 'ipv6')],
    ...parseReach(s.get('reach')),
    battery: parseBattery(s.get('power')),
    os: parseOs(s.get('os-release'), s.get('os-markers'), s.get('motd'), system, tools.nixosFacter),
    access,
    tools,
    warnings,
  };
  const merged = s.has('facter') ? mergeFacter(report, s.get('facter')!, virt?.detected ?? false) : report;
  const checked = HardwareReportSchema.safeParse(merged);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw failure('probe-output', `the probe output gave an invalid report at ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? ''}`, 'run with --debug and report the output');
  }
  return checked.data;
}

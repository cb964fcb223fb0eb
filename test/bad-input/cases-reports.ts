/**
 * Hardware reports (--report) and nixos-facter files (--facter, --from-facter) with malformed
 * or hostile content. Malformed: exit 2 naming the field. Hostile but well-formed (escape
 * sequences, "constructor" as a driver, 10k-char strings): the plan is made, shown escaped.
 */
import { join } from 'node:path';
import { FACTER, readJson, reportWith, type Case } from './harness.js';

const ESC = '\u001b]52;c;aGk=\u0007\u001b[2J';
const HUGE = 'x'.repeat(10_000);
const KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

const plan = (report: string, extra: string[] = []): Omit<Case, 'name'> => ({ args: ['plan', 'web1', '--report', '{in}/r.json', ...extra], inputs: { 'r.json': report } });

const TOP_LEVEL = Object.keys(readJson(join(FACTER, '..', 'reports', 'ovh-vps.json')));

export const REPORT_CASES: Case[] = [
  // Every top-level field missing, and with the wrong type.
  ...TOP_LEVEL.map((k): Case => ({ name: `report without ${k}`, ...plan(reportWith('ovh-vps', (r) => delete r[k])), expect: new RegExp(`r\\.json: ${k}`) })),
  ...TOP_LEVEL.filter((_, i) => i % 2 === 0).map((k): Case => ({ name: `report ${k} of the wrong type`, ...plan(reportWith('ovh-vps', (r) => (r[k] = typeof r[k] === 'string' ? 7 : 'x'))), expect: new RegExp(`r\\.json: ${k}`) })),
  // PCI ids that are not ids.
  ...['zz', '', '01:00.0', '0000:01:00', '0000:01:00.8', '0000:0g:00.0', ' 0000:01:00.0', 'constructor', `0000:01:00.0${ESC}`, HUGE].map((busId, i): Case => ({
    name: `report with bus id #${i}`,
    ...plan(reportWith('intel-nvidia-laptop', (r) => (r.pci[1].busId = busId))),
    expect: /pci\.1\.busId: must be a PCI bus id/,
  })),
  ...(['class', 'vendorId', 'deviceId'] as const).flatMap((f) =>
    ['constructor', '10de0'].map((v): Case => ({ name: `report with pci ${f} ${JSON.stringify(v)}`, ...plan(reportWith('intel-nvidia-laptop', (r) => (r.pci[0][f] = v))), expect: new RegExp(`pci\\.0\\.${f}`) })),
  ),
  { name: 'report not JSON', ...plan('{"version": 1,'), expect: /not valid JSON/ },
  { name: 'report is an array', ...plan('[]') },
  { name: 'report is null', ...plan('null') },
  { name: 'report version 2', ...plan(reportWith('ovh-vps', (r) => (r.version = 2))), expect: /version/ },
  { name: 'report negative memory', ...plan(reportWith('ovh-vps', (r) => (r.memoryBytes = -1))), expect: /memoryBytes/ },
  { name: 'report disk size 1e999', ...plan(reportWith('ovh-vps', (r) => (r.disks[0].sizeBytes = 'Infinity'))), expect: /sizeBytes/ },
  { name: 'report cores 0', ...plan(reportWith('ovh-vps', (r) => (r.cpu.cores = 0))), expect: /cpu\.cores/ },
  // Hostile strings echoed by an error: still one line, escaped.
  { name: 'report disk model with escapes, --disk not there', ...plan(reportWith('hetzner-dedicated-2nvme', (r) => (r.disks[0].model = ESC)), ['--layout', 'single-ext4', '--disk', 'sdz']), expect: /--disk sdz is not a disk/ },
  { name: 'report disk name with newline, two fit', ...plan(reportWith('hetzner-dedicated-2nvme', (r) => (r.disks[0].name = 'nvme0n1\nerror: fake')), ['--layout', 'single-ext4']), expect: /disks fit/ },
  { name: 'report virtualization with escapes, no profile matches', ...plan(reportWith('ovh-vps', (r) => (r.virtualization = ESC))), expect: /no hardware profile/ },
  { name: 'report virtualization 10k chars', ...plan(reportWith('ovh-vps', (r) => (r.virtualization = HUGE))), expect: /no hardware profile/ },
  ...KEYS.map((k): Case => ({ name: `report virtualization ${k}`, ...plan(reportWith('ovh-vps', (r) => (r.virtualization = k))), expect: /no hardware profile/ })),
  ...KEYS.map((k): Case => ({ name: `report disk named ${k}, --disk sdz`, ...plan(reportWith('ovh-vps', (r) => (r.disks[0].name = k)), ['--disk', 'sdz']), expect: /--disk sdz is not a disk/ })),
  // Hostile but well-formed: the plan is made (exit 0), nothing written without --write.
  ...KEYS.flatMap((k): Case[] => [
    { name: `report driver ${k}`, ...plan(reportWith('intel-nvidia-laptop', (r) => r.pci.forEach((p: Record<string, unknown>) => (p.driverModule = k)))), code: 0 },
    { name: `report virtualization ${k} with --profile`, ...plan(reportWith('ovh-vps', (r) => (r.virtualization = k)), ['--profile', 'generic-vm']), code: 0 },
    { name: `report strings ${k} everywhere`, ...plan(reportWith('intel-nvidia-laptop', (r) => {
      r.cpu.vendor = k; r.cpu.flags = [k]; r.dmi = { vendor: k, product: k, chassis: k }; r.usbControllers = [k]; r.hostname = k;
      r.disks[0].driverModules = [k]; r.disks[0].transport = k; r.nics.forEach((n: Record<string, unknown>) => (n.driverModule = k)); r.os.id = k;
    })), code: 0 },
  ]),
  { name: 'report with escapes in disk model and serial', ...plan(reportWith('ovh-vps', (r) => Object.assign(r.disks[0], { model: ESC, serial: ESC }))), code: 0 },
  { name: 'report with escapes in a by-id link', ...plan(reportWith('ovh-vps', (r) => (r.disks[0].byId = [`/dev/disk/by-id/${ESC}`]))), expect: /is not a device path disko can use/ },
  { name: 'report with 10k-char strings', ...plan(reportWith('ovh-vps', (r) => Object.assign(r.disks[0], { model: HUGE, serial: HUGE }))), code: 0 },
];

const facter = (edit: (f: Record<string, any>) => void): string => {
  const f = readJson(join(FACTER, 'hetzner-cloud.json'));
  edit(f);
  return JSON.stringify(f);
};

const BAD_FACTER: Array<[string, string, RegExp?]> = [
  ['not JSON', '{"version": 1, "hardware": {', /not valid JSON|truncated/],
  ['no hardware', facter((f) => delete f.hardware), /hardware/],
  ['hardware is a list', facter((f) => (f.hardware = [])), /hardware/],
  ['version -1', facter((f) => (f.version = -1)), /version/],
  ['version string', facter((f) => (f.version = '1')), /version/],
  ...KEYS.map((k): [string, string, RegExp] => [`system ${k}`, facter((f) => (f.system = k)), /architecture|system/]),
  ['system with escapes', facter((f) => (f.system = ESC)), /architecture|system/],
  ['top level null', 'null'],
];

export const FACTER_CASES: Case[] = BAD_FACTER.flatMap(([what, text, re]): Case[] => [
  { name: `facter ${what}: probe --from-facter`, args: ['probe', '--from-facter', '{in}/f.json', '--json'], inputs: { 'f.json': text }, ...(re ? { expect: re } : {}) },
  { name: `facter ${what}: plan --facter`, args: ['plan', 'web1', '--facter', '{in}/f.json'], inputs: { 'f.json': text }, ...(re ? { expect: re } : {}) },
]);

/**
 * Builds a scenario's fake machine on disk: a /sys tree (devices with driver and module links,
 * block, class/{net,dmi,power_supply}, bus/{pci,usb}, firmware/efi), a /dev/disk tree of links,
 * /proc/cpuinfo + /proc/meminfo + /etc/os-release replacements and PATH shims that print the
 * scenario's lsblk/ip/systemd-detect-virt output. netns.ts mounts these over the real paths
 * inside a private mount namespace, so the real probe script reads them at their real paths.
 * Spec: test/fixtures/scenarios/<name>/scenario.json (ScenarioSpec below).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface DriverSpec { driver: string; module?: string | null }
export interface PciSpec extends Partial<DriverSpec> { bus: string; path?: string; class: string; vendor: string; device: string }
export interface DiskSpec {
  name: string;
  /** sysfs path under /sys/devices of the disk's device (e.g. …/0:0:0:0 or …/nvme/nvme0). */
  device: string;
  sectors: number;
  rotational?: boolean;
  removable?: boolean;
  model?: string;
  serial?: string;
  partitions?: Array<{ name: string; sectors: number }>;
}
export interface NetSpec { name: string; mac: string; operstate?: string; device?: string; driver?: string; module?: string | null; wireless?: boolean }
export interface ScenarioSpec {
  description: string;
  hostname: string;
  efi: boolean;
  dmi?: Record<string, string>;
  /** Bound drivers of non-PCI devices in the disk chains, by path under /sys/devices. */
  drivers?: Record<string, DriverSpec>;
  pci: PciSpec[];
  disks: DiskSpec[];
  byId?: Record<string, string>;
  byPath?: Record<string, string>;
  net: NetSpec[];
  power?: Array<{ name: string; type: string; scope?: string }>;
  /** USB root hubs: name → host controller path under /sys/devices. */
  usb?: Record<string, string>;
  /** USB interfaces (path under /sys/devices, …/2-1:1.0): class, protocol and bound driver. */
  usbInterfaces?: Array<{ path: string; class: string; protocol: string } & Partial<DriverSpec>>;
}

export interface FakeMachine {
  /** Directories to mount: target path → source directory or file. */
  mounts: Array<{ target: string; source: string }>;
  shimDir: string;
  hostname: string;
}

function write(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content.endsWith('\n') ? content : `${content}\n`);
}

function link(path: string, target: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(relative(dirname(path), target), path);
}

/** driver link to /sys/bus/X/drivers/NAME and its module link to /sys/module/MOD (absent when built in). */
function bindDriver(sys: string, devDir: string, d: DriverSpec, bus: string): void {
  const drvDir = join(sys, 'bus', bus, 'drivers', d.driver);
  mkdirSync(drvDir, { recursive: true });
  if (d.module && !existsSync(join(drvDir, 'module'))) {
    mkdirSync(join(sys, 'module', d.module), { recursive: true });
    link(join(drvDir, 'module'), join(sys, 'module', d.module));
  }
  mkdirSync(devDir, { recursive: true });
  link(join(devDir, 'driver'), drvDir);
}

/** Build the fake machine of `scenarioDir` under `outDir`. Pure filesystem work, no mounts. */
export function buildFakeMachine(scenarioDir: string, outDir: string, opts: { withoutLsblk?: boolean } = {}): FakeMachine {
  const spec = JSON.parse(readFileSync(join(scenarioDir, 'scenario.json'), 'utf8')) as ScenarioSpec;
  const sys = join(outDir, 'sys');
  const devices = join(sys, 'devices');
  mkdirSync(devices, { recursive: true });

  for (const p of spec.pci) {
    const dir = join(devices, p.path ?? `pci0000:00/${p.bus}`);
    write(join(dir, 'class'), p.class);
    write(join(dir, 'vendor'), p.vendor);
    write(join(dir, 'device'), p.device);
    if (p.driver) bindDriver(sys, dir, { driver: p.driver, module: p.module ?? null }, 'pci');
    link(join(sys, 'bus/pci/devices', p.bus), dir);
  }
  for (const [path, d] of Object.entries(spec.drivers ?? {})) bindDriver(sys, join(devices, path), d, 'other');

  mkdirSync(join(sys, 'block'), { recursive: true });
  for (const d of spec.disks) {
    const devDir = join(devices, d.device);
    const blk = join(devDir, 'block', d.name);
    write(join(blk, 'size'), String(d.sectors));
    write(join(blk, 'removable'), d.removable ? '1' : '0');
    write(join(blk, 'ro'), '0');
    write(join(blk, 'queue/rotational'), d.rotational ? '1' : '0');
    if (d.model) write(join(devDir, 'model'), d.model);
    if (d.serial) write(join(devDir, 'serial'), d.serial);
    link(join(blk, 'device'), devDir);
    for (const p of d.partitions ?? []) {
      write(join(blk, p.name, 'partition'), '1');
      write(join(blk, p.name, 'size'), String(p.sectors));
    }
    link(join(sys, 'block', d.name), blk);
  }

  for (const n of spec.net) {
    const dir = n.device ? join(devices, n.device, 'net', n.name) : join(devices, 'virtual/net', n.name);
    write(join(dir, 'address'), n.mac);
    write(join(dir, 'operstate'), n.operstate ?? 'up');
    write(join(dir, 'type'), n.name === 'lo' ? '772' : '1');
    if (n.wireless) mkdirSync(join(dir, 'wireless'), { recursive: true });
    if (n.device) {
      link(join(dir, 'device'), join(devices, n.device));
      if (n.driver && !existsSync(join(devices, n.device, 'driver'))) bindDriver(sys, join(devices, n.device), { driver: n.driver, module: n.module ?? null }, 'pci');
    }
    link(join(sys, 'class/net', n.name), dir);
  }

  for (const ps of spec.power ?? []) {
    const dir = join(devices, 'platform/power', ps.name);
    write(join(dir, 'type'), ps.type);
    write(join(dir, 'present'), '1');
    if (ps.scope) write(join(dir, 'scope'), ps.scope);
    link(join(sys, 'class/power_supply', ps.name), dir);
  }
  mkdirSync(join(sys, 'class/power_supply'), { recursive: true });

  for (const [hub, controller] of Object.entries(spec.usb ?? {})) {
    mkdirSync(join(devices, controller, hub), { recursive: true });
    link(join(sys, 'bus/usb/devices', hub), join(devices, controller, hub));
  }

  for (const i of spec.usbInterfaces ?? []) {
    const dir = join(devices, i.path);
    write(join(dir, 'bInterfaceClass'), i.class);
    write(join(dir, 'bInterfaceProtocol'), i.protocol);
    if (i.driver) bindDriver(sys, dir, { driver: i.driver, module: i.module ?? null }, 'usb');
    link(join(sys, 'bus/usb/devices', i.path.split('/').at(-1)!), dir);
  }

  if (spec.dmi) for (const [k, v] of Object.entries(spec.dmi)) write(join(devices, 'virtual/dmi/id', k), v);
  if (spec.dmi) link(join(sys, 'class/dmi/id'), join(devices, 'virtual/dmi/id'));
  mkdirSync(join(sys, 'firmware'), { recursive: true });
  if (spec.efi) {
    mkdirSync(join(sys, 'firmware/efi/efivars'), { recursive: true });
    write(join(sys, 'firmware/efi/fw_platform_size'), '64');
  }

  // /dev replacement: the device nodes sshd and the shell need are bind-mounted in by netns.ts.
  const dev = join(outDir, 'dev');
  for (const node of ['null', 'zero', 'full', 'random', 'urandom', 'tty']) write(join(dev, node), '');
  for (const [kind, links] of [['by-id', spec.byId ?? {}], ['by-path', spec.byPath ?? {}]] as const) {
    mkdirSync(join(dev, 'disk', kind), { recursive: true });
    for (const [name, target] of Object.entries(links)) symlinkSync(`../../${target}`, join(dev, 'disk', kind, name));
  }

  const shimDir = join(outDir, 'shims');
  mkdirSync(shimDir, { recursive: true });
  const shim = (name: string, body: string) => {
    write(join(shimDir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(shimDir, name), 0o755);
  };
  const data = (f: string) => join(scenarioDir, f);
  // A failing lsblk shim stands in for "no lsblk": the real one in /usr/bin would shadow an absent shim.
  if (existsSync(data('lsblk.json')) && !opts.withoutLsblk) shim('lsblk', `cat '${data('lsblk.json')}'`);
  else shim('lsblk', 'echo "lsblk: not on this scenario" >&2; exit 127');
  if (existsSync(data('detect-virt.txt'))) shim('systemd-detect-virt', `cat '${data('detect-virt.txt')}'`);
  shim('ip', [
    'case "$*" in',
    `  "-o addr show") cat '${data('ip-addr.txt')}' ;;`,
    `  "route show default") cat '${data('ip-route.txt')}' ;;`,
    `  "-6 route show default") cat '${data('ip-route6.txt')}' ;;`,
    '  *) echo "fake ip: unexpected arguments: $*" >&2; exit 2 ;;',
    'esac',
  ].join('\n'));

  const mounts = [
    { target: '/sys', source: sys },
    { target: '/dev', source: dev },
    { target: '/proc/cpuinfo', source: data('cpuinfo.txt') },
    { target: '/proc/meminfo', source: data('meminfo.txt') },
    { target: '/etc/os-release', source: data('os-release') },
  ];
  if (existsSync(data('motd'))) mounts.push({ target: '/etc/motd', source: data('motd') });
  return { mounts, shimDir, hostname: spec.hostname };
}

/**
 * Recipes: profile contributions that need values from the report (GPU bus ids, the probed IPv6
 * address). Each returns NixOS settings as plain data for the serializer, plus warnings when the
 * report lacks what the recipe needs (the rest of the plan still renders).
 */
import type { HardwareReport, Nic } from '../probe/report.js';
import { gpuVendorOf, isGpu } from '../probe/report.js';
import type { ProfileValue, Recipe } from './schema.js';

export type ModuleAttrs = { [k: string]: ProfileValue };

export interface RecipeResult {
  module: ModuleAttrs;
  warnings: string[];
}

/**
 * "0000:01:00.0" (hex, as sysfs writes it) → "PCI:1:0:0" (decimal, as hardware.nvidia.prime wants).
 * A non-zero PCI domain uses NixOS's "PCI:bus@domain:device:function" form.
 */
export function buildNixPciBusId(busId: string): string {
  const m = /^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(busId.trim());
  if (!m) throw new Error(`not a PCI bus id: "${busId}"`);
  const [domain, bus, dev, fn] = [m[1] ?? '0', m[2]!, m[3]!, m[4]!].map((h) => parseInt(h, 16));
  return domain === 0 ? `PCI:${bus}:${dev}:${fn}` : `PCI:${bus}@${domain}:${dev}:${fn}`;
}

const gpusOf = (r: HardwareReport, vendor: string) =>
  r.pci.filter((d) => isGpu(d) && gpuVendorOf(d.vendorId) === vendor).sort((a, b) => a.busId.localeCompare(b.busId));

const NVIDIA_BASE: ModuleAttrs = {
  hardware: { nvidia: { modesetting: { enable: true }, open: true } },
};

function nvidiaPrimeOffload(r: HardwareReport): RecipeResult {
  const nvidia = gpusOf(r, 'nvidia')[0];
  const intel = gpusOf(r, 'intel')[0];
  const amd = gpusOf(r, 'amd')[0];
  if (!nvidia || (!intel && !amd)) {
    return { module: {}, warnings: ['PRIME offload needs an NVIDIA and an Intel or AMD GPU in the report; configure hardware.nvidia.prime by hand'] };
  }
  const prime: ModuleAttrs = {
    offload: { enable: true, enableOffloadCmd: true },
    ...(intel ? { intelBusId: buildNixPciBusId(intel.busId) } : { amdgpuBusId: buildNixPciBusId(amd!.busId) }),
    nvidiaBusId: buildNixPciBusId(nvidia.busId),
  };
  return {
    module: {
      hardware: { nvidia: { modesetting: { enable: true }, open: true, prime } },
      services: { xserver: { videoDrivers: ['modesetting', 'nvidia'] } },
    },
    warnings: [],
  };
}

function nvidiaDesktop(): RecipeResult {
  return { module: { ...NVIDIA_BASE, services: { xserver: { videoDrivers: ['nvidia'] } } }, warnings: [] };
}

const isGlobalV6 = (cidr: string): boolean => {
  const a = cidr.toLowerCase();
  return a.includes(':') && !a.startsWith('fe80:') && !/^f[cd]/.test(a) && !a.startsWith('::1/') && a !== '::1';
};

/** The uplink: the interface of the IPv6 default route, else of the IPv4 one. */
function uplink(r: HardwareReport): Nic | undefined {
  const route = r.defaultRoutes.find((x) => x.family === 'ipv6') ?? r.defaultRoutes.find((x) => x.family === 'ipv4');
  return route ? r.nics.find((n) => n.name === route.interface) : undefined;
}

/**
 * Hetzner (cloud and dedicated) routes IPv6 statically: the probed /64 address plus fe80::1.
 * systemd-networkd matches the NIC by MAC, because the rescue system's interface name (eth0)
 * is not the name NixOS will give it (enp1s0, ens3 …).
 */
function staticIpv6(r: HardwareReport): RecipeResult {
  const nic = uplink(r);
  const addr = nic?.addresses.filter(isGlobalV6).sort()[0];
  if (!nic || !addr) {
    return { module: {}, warnings: ['no global IPv6 address on the default interface in the report: IPv6 is left unconfigured (add it to default.nix)'] };
  }
  const match: ModuleAttrs = nic.mac ? { MACAddress: nic.mac.toLowerCase() } : { Name: nic.name };
  const warnings = nic.mac ? [] : [`no MAC address for ${nic.name}: the uplink is matched by its name, which may differ on NixOS`];
  return {
    module: {
      networking: { useNetworkd: true },
      systemd: {
        network: {
          networks: {
            '10-uplink': {
              matchConfig: match,
              networkConfig: { DHCP: 'ipv4' },
              address: [addr],
              routes: [{ Gateway: 'fe80::1', GatewayOnLink: true }],
            },
          },
        },
      },
    },
    warnings,
  };
}

export function buildRecipe(recipe: Recipe, report: HardwareReport): RecipeResult {
  switch (recipe) {
    case 'nvidia-prime-offload':
      return nvidiaPrimeOffload(report);
    case 'nvidia-desktop':
      return nvidiaDesktop();
    case 'static-ipv6-fe80-gateway':
      return staticIpv6(report);
  }
}

/** Deep-merge attribute sets; on a scalar clash the later value wins (recipes refine profile data). */
export function mergeModuleAttrs(...parts: ModuleAttrs[]): ModuleAttrs {
  const out: ModuleAttrs = {};
  for (const part of parts) {
    for (const [k, v] of Object.entries(part)) {
      const prev = out[k];
      const isSet = (x: unknown): x is ModuleAttrs => typeof x === 'object' && x !== null && !Array.isArray(x);
      // Sets are rebuilt as plain objects (TOML tables come with a null prototype).
      out[k] = isSet(v) ? mergeModuleAttrs(isSet(prev) ? prev : {}, v) : v;
    }
  }
  return out;
}

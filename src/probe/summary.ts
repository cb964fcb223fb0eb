/** The short human summary `bootstrap probe` prints without --json. Pure. */
import { gpuVendorOf, isGpu, type Disk, type HardwareReport } from './report.js';

/** Bytes as lsblk -h prints them (binary units), e.g. "476.9G". */
export function formatBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(1)}${units[i]}`;
}

const orDash = (v: string | null | undefined) => (v && v.trim() ? v.trim() : '-');

function diskLine(d: Disk): string {
  const id = d.byId[0] ?? d.path;
  const flags = [d.removable ? 'removable' : '', d.rotational ? 'rotational' : ''].filter(Boolean).join(',');
  return `disk  ${id}  ${formatBytes(d.sizeBytes)}  ${orDash(d.transport)}  ${orDash(d.model)}${flags ? `  (${flags})` : ''}`;
}

export function buildProbeSummary(r: HardwareReport): string {
  const cpu = `${r.cpu.model ?? r.cpu.vendor} (${r.cpu.cores} ${r.cpu.cores === 1 ? 'core' : 'cores'})`;
  const os = [r.os.name ?? r.os.id, r.os.isInstaller ? 'installer' : '', r.os.isRescue ? 'rescue' : ''].filter(Boolean).join(' ');
  const lines = [
    `host  ${orDash(r.hostname)}  ${r.arch}  ${r.firmware}  virt=${r.virtualization}  ${cpu}  ${formatBytes(r.memoryBytes)} memory`,
  ];
  if (r.dmi.vendor || r.dmi.product) lines.push(`model ${[r.dmi.vendor, r.dmi.product, r.dmi.chassis].filter(Boolean).join(' / ')}`);
  if (os) lines.push(`os    ${os}${r.access.isRoot ? '' : `  (user ${r.access.user}, sudo ${r.access.sudo})`}`);
  const disks = r.disks.filter((d) => d.type === 'disk');
  lines.push(...disks.map(diskLine));
  if (disks.length === 0) lines.push('disk  none found');
  for (const n of r.nics) {
    lines.push(`nic   ${n.name}  ${orDash(n.mac)}  ${n.addresses.join(', ') || 'no address'}  ${orDash(n.driverModule)}${n.wireless ? '  (wireless)' : ''}${n.up ? '' : '  (down)'}`);
  }
  // The kexec image is downloaded by the target: say so when it has no IPv4 way out (issue 20); an
  // installer already needs none.
  if (r.reach?.ipv4DefaultRoute === false && !r.os.isInstaller) lines.push('net   no IPv4 default route: an install needs --kexec-image, --kexec-url or --kexec-from cache (see --help)');
  for (const g of r.pci.filter(isGpu)) {
    const vendor = gpuVendorOf(g.vendorId) ?? g.vendorId;
    lines.push(`gpu   ${g.busId}  ${vendor} ${g.vendorId}:${g.deviceId}  driver ${orDash(g.driverModule)}`);
  }
  if (r.warnings.length) lines.push(`note  ${r.warnings.length} fact(s) could not be read; see --json "warnings"`);
  return lines.join('\n');
}

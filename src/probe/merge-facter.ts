/**
 * When the target has nixos-facter, probe.sh runs it in the same channel. Its report is kept
 * whole in `report.facter`, and it fills or refines what the probe could not see: driver modules
 * (hwinfo resolves modules the sysfs walk misses), DMI fields, PCI drivers, USB controllers. Pure.
 * Facts the probe reads directly (sizes, addresses, routes, by-id links) stay the probe's.
 */
import { isBootstrapError, messageOf } from '../errors.js';
import type { HardwareReport } from './report.js';
import { facterToReport } from './facter.js';

export function mergeFacter(report: HardwareReport, lines: readonly string[], virtDetected: boolean): HardwareReport {
  const text = lines.join('\n').trim();
  if (!text) return { ...report, warnings: [...report.warnings, 'facter: nixos-facter printed nothing'] };
  let f: HardwareReport;
  try {
    f = facterToReport(text);
  } catch (e) {
    const why = isBootstrapError(e) ? e.message : messageOf(e);
    return { ...report, warnings: [...report.warnings, `facter: its output was not used (${why})`] };
  }
  const facterDisks = new Map(f.disks.map((d) => [d.name, d]));
  const facterPci = new Map(f.pci.map((d) => [d.busId, d]));
  const union = (a: readonly string[], b: readonly string[]) => [...a, ...b.filter((x) => !a.includes(x))];
  return {
    ...report,
    virtualization: virtDetected ? report.virtualization : f.virtualization,
    dmi: {
      vendor: report.dmi.vendor ?? f.dmi.vendor,
      product: report.dmi.product ?? f.dmi.product,
      chassis: report.dmi.chassis ?? f.dmi.chassis,
    },
    cpu: { ...report.cpu, model: report.cpu.model ?? f.cpu.model },
    memoryBytes: report.memoryBytes || f.memoryBytes,
    disks:
      report.disks.length === 0
        ? f.disks
        : report.disks.map((d) => {
            const fd = facterDisks.get(d.name);
            if (!fd) return d;
            return {
              ...d,
              byId: d.byId.length ? d.byId : fd.byId,
              byPath: d.byPath.length ? d.byPath : fd.byPath,
              model: d.model ?? fd.model,
              serial: d.serial ?? fd.serial,
              transport: d.transport ?? fd.transport,
              driverModules: union(d.driverModules, fd.driverModules),
            };
          }),
    pci:
      report.pci.length === 0
        ? f.pci
        : report.pci.map((p) => ({ ...p, driverModule: p.driverModule ?? facterPci.get(p.busId)?.driverModule ?? null })),
    usbControllers: union(report.usbControllers, f.usbControllers),
    nics: report.nics.map((n) => ({ ...n, driverModule: n.driverModule ?? f.nics.find((x) => x.name === n.name)?.driverModule ?? null })),
    facter: f.facter,
    warnings: [...report.warnings, ...f.warnings.filter((w) => !/rotational|battery inferred/.test(w))],
  };
}

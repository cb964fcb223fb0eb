import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadReport } from '../../test/helpers/reports.js';
import { buildNixPciBusId, buildRecipe, mergeModuleAttrs } from './recipes.js';

test('PCI bus ids: sysfs hex → NixOS decimal', () => {
  const rows: Array<[string, string]> = [
    ['0000:01:00.0', 'PCI:1:0:0'],
    ['0000:00:02.0', 'PCI:0:2:0'],
    ['0000:65:00.0', 'PCI:101:0:0'],
    ['0000:c1:1f.7', 'PCI:193:31:7'],
    ['01:00.1', 'PCI:1:0:1'],
    ['0001:02:00.0', 'PCI:2@1:0:0'],
  ];
  for (const [sysfs, nix] of rows) assert.equal(buildNixPciBusId(sysfs), nix, sysfs);
  assert.throws(() => buildNixPciBusId('PCI:1:0:0'), /not a PCI bus id/);
});

test('PRIME offload picks the Intel or AMD iGPU and the NVIDIA dGPU', () => {
  const intel = buildRecipe('nvidia-prime-offload', loadReport('intel-nvidia-laptop')).module as any;
  assert.deepEqual(intel.hardware.nvidia.prime, { offload: { enable: true, enableOffloadCmd: true }, intelBusId: 'PCI:0:2:0', nvidiaBusId: 'PCI:1:0:0' });
  const amd = buildRecipe('nvidia-prime-offload', loadReport('amd-nvidia-laptop')).module as any;
  assert.equal(amd.hardware.nvidia.prime.amdgpuBusId, 'PCI:101:0:0');
  const none = buildRecipe('nvidia-prime-offload', loadReport('amd-laptop'));
  assert.deepEqual(none.module, {});
  assert.match(none.warnings[0]!, /PRIME offload needs an NVIDIA/);
});

test('static IPv6: the global address of the uplink, matched by MAC; none → a warning', () => {
  const r = buildRecipe('static-ipv6-fe80-gateway', loadReport('hetzner-dedicated-2nvme')).module as any;
  const net = r.systemd.network.networks['10-uplink'];
  assert.deepEqual(net.address, ['2a01:4f8:271:1a2b::2/64']);
  assert.deepEqual(net.matchConfig, { MACAddress: 'a8:a1:59:11:22:33' });
  const ovh = buildRecipe('static-ipv6-fe80-gateway', loadReport('ovh-vps'));
  assert.deepEqual(ovh.module, {});
  assert.match(ovh.warnings[0]!, /no global IPv6 address/);
});

test('mergeModuleAttrs merges sets deeply and lets later scalars win', () => {
  const toml = Object.assign(Object.create(null), { a: Object.assign(Object.create(null), { b: 1 }) });
  const merged = mergeModuleAttrs(toml, { a: { c: 2 } }, { a: { b: 3 } });
  assert.deepEqual(merged, { a: { b: 3, c: 2 } });
  assert.equal(Object.getPrototypeOf(merged.a), Object.prototype, 'plain objects, so the Nix bindings flatten them');
});

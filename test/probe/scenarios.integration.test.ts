/**
 * The real probe script over real SSH against each named hardware scenario: a network namespace
 * host whose sshd sees the scenario's fake /sys, /dev/disk, /proc/{cpuinfo,meminfo}, os-release
 * and PATH shims (lsblk, ip, systemd-detect-virt), then the parsed report checked field by field.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { parseProbeOutput } from '../../src/probe/parse.js';
import { loadProbeScript, PROBE_COMMAND } from '../../src/probe/script.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { buildFakeMachine } from '../helpers/fake-hardware.js';
import { createNetnsLab, netnsSkipReason, type NetnsLab } from '../helpers/netns.js';
import { checkScenario, SCENARIOS } from './scenario-expectations.js';

const skip = netnsSkipReason();

describe('probe script over SSH against named hardware scenarios', { skip: skip ?? false }, () => {
  let lab: NetnsLab | undefined;
  const work = mkdtempSync(join(tmpdir(), 'nb-scenarios-'));
  before(async () => { lab = await createNetnsLab(); });
  after(async () => {
    await lab?.teardown();
    rmSync(work, { recursive: true, force: true });
  });

  for (const [name, expected] of Object.entries(SCENARIOS)) {
    it(name, async () => {
      const fake = buildFakeMachine(`${REPO_ROOT}test/fixtures/scenarios/${name}`, join(work, name));
      const host = await lab!.addHost({ shimDir: fake.shimDir, mounts: fake.mounts, hostname: fake.hostname });
      try {
        const r = await runCommand([...host.sshArgv(), PROBE_COMMAND], { input: loadProbeScript(), timeoutMs: 60_000 });
        checkScenario(parseProbeOutput(r.stdout), expected);
      } finally {
        await host.stop();
      }
    });
  }

  it('ovh-vps with a failing lsblk: disks from /sys/block, the rest intact', async () => {
    const fake = buildFakeMachine(`${REPO_ROOT}test/fixtures/scenarios/ovh-vps`, join(work, 'ovh-no-lsblk'), { withoutLsblk: true });
    const host = await lab!.addHost({ shimDir: fake.shimDir, mounts: fake.mounts, hostname: fake.hostname });
    try {
      const r = parseProbeOutput((await runCommand([...host.sshArgv(), PROBE_COMMAND], { input: loadProbeScript(), timeoutMs: 60_000 })).stdout);
      assert.deepEqual(r.disks.map((d) => [d.name, d.sizeBytes, d.transport, d.driverModules]), [['vda', 167772160 * 512, 'virtio', ['virtio_blk', 'virtio_pci']]]);
      assert.ok(r.warnings.some((w) => w.startsWith('lsblk: failed lsblk')), r.warnings.join('; '));
      assert.equal(r.dmi.product, 'OpenStack Nova');
    } finally {
      await host.stop();
    }
  });
});

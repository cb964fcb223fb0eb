/** The netns host helper itself: reachable over SSH with its pinned key, restartable with another key, torn down. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runCommand } from '../../src/exec/run.js';
import { createNetnsLab, netnsSkipReason } from '../helpers/netns.js';

describe('netns test hosts', { skip: netnsSkipReason() ?? false }, () => {
  it('serves ssh with its host key, refuses the old pin after a key swap, and leaves nothing behind', async () => {
    const lab = await createNetnsLab();
    let ns = '';
    try {
      const host = await lab.addHost({ hostname: 'probe-target' });
      ns = host.ns;
      const first = await runCommand([...host.sshArgv(), 'cat /proc/sys/kernel/hostname']);
      assert.equal(first.stdout.trim(), 'probe-target');
      const oldFp = host.fingerprint;
      const pinned = host.sshArgv(); // still points at known_hosts, which restart rewrites
      await host.restartWithHostKey();
      assert.notEqual(host.fingerprint, oldFp);
      const pinnedOld = pinned.map((a) => (a.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${host.dir}/stale_known_hosts` : a));
      execFileSync('sh', ['-c', `echo "${host.ip} $(cut -d' ' -f1-2 ${host.dir}/host_ed25519.pub)" > ${host.dir}/stale_known_hosts`]);
      const refused = await runCommand([...pinnedOld, 'true'], { check: false });
      assert.equal(refused.code, 255);
      assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
      assert.equal((await runCommand([...host.sshArgv(), 'echo ok'])).stdout.trim(), 'ok');
    } finally {
      await lab.teardown();
      await lab.teardown(); // idempotent
    }
    assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(ns), 'namespace removed');
  });
});

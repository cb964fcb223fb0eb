/**
 * The guard nix's ssh runs through (nix-route.ts): what it pins (the host under its resolved name
 * and port, each jump host under its own name, nothing else from the flake's pins), the route it
 * is given, and the refusals before nix starts: an unpinned host, an unpinned or revoked hop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNixRoute } from './nix-route.js';
import { parseTarget } from '../../ssh/target.js';
import type { ResolvedTarget } from '../../ssh/ssh-config.js';
import { isBootstrapError } from '../../errors.js';

function pub(dir: string, name: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

test('the guard pins the host and every hop under their own names, takes the route through them, and carries NIX_SSHOPTS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-nix-route-'));
  try {
    const [host, hop, other] = [pub(dir, 'host'), pub(dir, 'hop'), pub(dir, 'other')];
    const pins = join(dir, 'known_hosts');
    writeFileSync(pins, `10.0.0.5 ${host}\n[10.0.0.5]:2222 ${host}\n203.0.113.9 ${hop}\n198.51.100.1 ${other}\n`);
    const bastion: ResolvedTarget = { ...parseTarget('admin@203.0.113.9'), alias: 'bastion' };
    const target: ResolvedTarget = { ...parseTarget('root@10.0.0.5', { identityFile: '/k/id' }), alias: 'web1', jumps: [bastion], sshConfig: '/cfg/ssh_config' };
    const route = await openNixRoute({ env: { PATH: '/usr/bin:/bin' } }, target, pins);
    const guardDir = route.env.NB_SSH_GUARD_DIR!;
    try {
      assert.equal(route.env.PATH, `${guardDir}/bin:/usr/bin:/bin`, 'the guard is the first ssh on nix\'s PATH');
      assert.equal(route.env.NB_SSH_GUARD_JUMPS, 'ssh://admin@bastion:22');
      assert.equal(route.env.NB_SSH_GUARD_CONFIG, '/cfg/ssh_config');
      assert.equal(route.env.NIX_SSHOPTS, '-p 22 -o BatchMode=yes -i /k/id -o IdentitiesOnly=yes');
      const guardPins = readFileSync(join(guardDir, 'known_hosts'), 'utf8');
      assert.deepEqual(guardPins.trim().split('\n'), [`10.0.0.5 ${host}`, `203.0.113.9 ${hop}`], 'the host on its port and the hop, nothing else');
      assert.deepEqual(await route.transfer(), { sentBytes: 0, receivedBytes: 0, connections: 0 });
    } finally {
      await route.close();
    }
    assert.ok(!existsSync(guardDir), 'the guard\'s directory is removed');

    // Refused before nix runs: the host not pinned on its port; a hop not pinned; a hop whose key is revoked.
    const refused = async (t: ResolvedTarget, file: string, re: RegExp) =>
      assert.rejects(openNixRoute({ env: { PATH: '/usr/bin:/bin' } }, t, file), (e: unknown) => isBootstrapError(e) && e.code === 'no-pinned-key' && re.test(e.message));
    await refused({ ...target, port: 2200 }, pins, /no host key of root@10\.0\.0\.5:2200 is pinned/);
    writeFileSync(pins, `10.0.0.5 ${host}\n`);
    await refused(target, pins, /no host key of jump host admin@203\.0\.113\.9 is pinned/);
    writeFileSync(pins, `10.0.0.5 ${host}\n203.0.113.9 ${hop}\n@revoked 203.0.113.9 ${hop}\n`);
    await refused(target, pins, /jump host admin@203\.0\.113\.9/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

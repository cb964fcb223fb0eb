/**
 * Issue 20: `bootstrap deploy` of a host installed through an ssh config (`--ssh-config` recorded
 * as the manifest's [ssh] config) takes that route with no flag: every connection resolves the
 * alias with it, and the `nix copy` of the closure gets it as NIX_SSHOPTS `-F FILE`. The config
 * is the only place the login key is named (`Host *` IdentityFile, no -i, no agent), so a copy
 * whose ssh did not read it could not log in. Issue 21: a recorded [tailscale] name that resolves is
 * the route of every connection and the copy. Deploy lab (deploy-lab.ts), one host.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsSkipReason } from '../helpers/netns.js';
import { runCli } from '../helpers/cli.js';
import { createDeployLab, type DeployLab, type HostConfig } from './deploy-lab.js';

const GOOD: HostConfig = { units: { app: 'exit 0' } };

describe('bootstrap deploy along the recorded route (namespace host)', { skip: netnsSkipReason() ?? false }, () => {
  let lab: DeployLab;

  before(async () => {
    lab = await createDeployLab();
    try {
      const h = await lab.addHost('web3', GOOD);
      mkdirSync(join(lab.flakeDir, 'ssh'));
      writeFileSync(join(lab.flakeDir, 'ssh', 'deploy_config'), `Host web3-alias\n  HostName ${h.net.ip}\nHost *\n  IdentityFile ${lab.clientKey}\n  IdentitiesOnly yes\n`);
      const m = join(lab.flakeDir, 'hosts', 'web3', 'bootstrap.toml');
      writeFileSync(m, readFileSync(m, 'utf8').replace(/^target = .*$/m, 'target = "root@web3-alias"') + '\n[ssh]\nconfig = "ssh/deploy_config"\n');
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(async () => {
    await lab?.teardown();
  });

  test('the alias and the login key come from the recorded config, for the connections and the nix copy', async () => {
    const before = lab.current('web3');
    lab.writeConfig('web3', { ...GOOD, motd: 'through the recorded route' });
    const r = await runCli(['deploy', 'web3', '--flake', lab.flakeDir, '--timeout', '5', '--confirm-timeout', '60'], { env: lab.env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.notEqual(lab.current('web3'), before, 'the new generation runs');
  });

  test('issue 21: a recorded tailnet name that resolves is the route (its public target answers nowhere), for the connections and the copy', async () => {
    const m = join(lab.flakeDir, 'hosts', 'web3', 'bootstrap.toml');
    const cfg = join(lab.flakeDir, 'ssh', 'deploy_config');
    const saved = [readFileSync(m, 'utf8'), readFileSync(cfg, 'utf8')] as const;
    const ip = lab.hosts.web3!.net.ip;
    // The public target is a refused port; the tailnet name maps (as MagicDNS would) to the host.
    writeFileSync(cfg, `Host web3-public\n  HostName ${ip.replace(/\.\d+$/, '.1')}\n  Port 1\nHost web3.tail1234.ts.net\n  HostName ${ip}\n${saved[1].slice(saved[1].indexOf('Host *'))}`);
    writeFileSync(m, saved[0].replace(/^target = .*$/m, 'target = "root@web3-public"') + '\n[tailscale]\nname = "web3.tail1234.ts.net"\n');
    try {
      lab.writeConfig('web3', { ...GOOD, motd: 'over the tailnet' });
      const before = lab.current('web3');
      const r = await runCli(['deploy', 'web3', '--flake', lab.flakeDir, '--timeout', '5', '--confirm-timeout', '60', '--json'], { env: lab.env, timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.notEqual(lab.current('web3'), before);
      const doc = JSON.parse(r.stdout) as { hosts: Array<{ health?: { via?: string } }> };
      assert.equal(doc.hosts[0]!.health?.via, 'tailnet');
    } finally {
      writeFileSync(m, saved[0]);
      writeFileSync(cfg, saved[1]);
    }
  });

  test('--ssh-config on deploy gives the route when the manifest records none', async () => {
    const m = join(lab.flakeDir, 'hosts', 'web3', 'bootstrap.toml');
    const saved = readFileSync(m, 'utf8');
    writeFileSync(m, saved.replace(/\n\[ssh\]\nconfig = .*\n/, '\n'));
    try {
      lab.writeConfig('web3', { ...GOOD, motd: 'the flag' });
      const before = lab.current('web3');
      const r = await runCli(['deploy', 'web3', '--flake', lab.flakeDir, '--timeout', '5', '--confirm-timeout', '60', '--ssh-config', join(lab.flakeDir, 'ssh', 'deploy_config')], { env: lab.env, timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.notEqual(lab.current('web3'), before);
    } finally {
      writeFileSync(m, saved);
    }
  });
});

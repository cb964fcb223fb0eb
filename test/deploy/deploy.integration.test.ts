/**
 * `bootstrap deploy` against the deploy lab (deploy-lab.ts): namespace hosts with a real generation
 * layout, whose switch-to-configuration really restarts their sshd with the new generation's
 * ports, and whose rollback timer (the systemd-run shim) really runs in the background until its
 * deadline. One lab for every case: web1 takes the deploys, web2 joins for the canary.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { netnsSkipReason } from '../helpers/netns.js';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { createDeployLab, type DeployLab, type HostConfig } from './deploy-lab.js';
import { DEPLOY_ROLLED_BACK_EXIT } from '../../src/workflow/deploy/index.js';

const skip = netnsSkipReason();
const GOOD: HostConfig = { units: { app: 'exit 0' } };

describe('bootstrap deploy (namespace hosts)', { skip: skip ?? false }, () => {
  let lab: DeployLab;

  before(async () => {
    lab = await createDeployLab();
    try {
      await lab.addHost('web1', GOOD, { units: ['app.service'], ports: [22], timeout: 5 });
      await lab.addHost('web2', GOOD);
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(async () => {
    await lab?.teardown();
  });

  const cli = (...args: string[]) => runCli([...args, '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5'], { env: lab.env, timeoutMs: 120_000 });

  test('a good deploy is confirmed: the new generation runs, is the boot default, the timer is gone, status is ok', async () => {
    const before = lab.current('web1');
    lab.writeConfig('web1', { ...GOOD, motd: 'deployed once' });
    const dry = await cli('deploy', 'web1', '--dry-run', '--json');
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    const plan = JSON.parse(dry.stdout) as { hosts: Array<{ current: string; toplevel: string; changed: boolean }> };
    assert.equal(plan.hosts[0]!.current, before);
    assert.notEqual(plan.hosts[0]!.toplevel, before);
    assert.equal(plan.hosts[0]!.changed, true);
    assert.equal(lab.current('web1'), before, 'a dry run changes nothing');

    const r = await cli('deploy', 'web1', '--confirm-timeout', '60');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const now = lab.current('web1');
    assert.equal(now, plan.hosts[0]!.toplevel);
    assert.deepEqual(lab.profile('web1'), { link: 'system-2-link', target: now });
    assert.match(r.stderr + r.stdout, /web1 runs .* it is the boot default/);
    const timers = readdirSync(join(lab.hosts.web1!.fs, 'run/lab-systemd'));
    assert.deepEqual(timers.filter((f) => f.endsWith('.timer.pid') || f.endsWith('.running')), [], 'the rollback timer was stopped');
    const st = await cli('status', 'web1');
    assert.equal(st.code, 0, st.stderr + st.stdout);
    assert.match(st.stdout, /runs the system bootstrap built/);
    assert.match(st.stdout, /unit app\.service is active/);
  });
});

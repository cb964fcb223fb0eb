/**
 * End to end (issue 13) for the dedicated-server providers: `bootstrap rebuild web1 --via-rescue --yes`
 * takes an installed host that no longer answers SSH, boots it into its provider's rescue system
 * through a local HTTPS fake of the Hetzner Robot web service or of the OVHcloud API (test/provider),
 * installs it with the REAL nixos-anywhere.sh on a namespace target, verifies it, and leaves the
 * server set to boot from its disk. The exact API requests are asserted, bodies and auth included.
 * Neither provider exposes the rescue system's host key, so --yes needs --host-key (refused first
 * without it, before any API call). Root only; the lab, the fakes and the key dir are torn down
 * in after/finally hooks, also on failure.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseOperatorKey } from '../../src/provider/ssh-key.js';
import type { CliResult } from '../helpers/cli.js';
import type { LabTarget } from '../helpers/installer-lab.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { startHetznerRobotFake } from '../provider/hetzner-robot-fake.js';
import { OVH_BOOTS, OVH_DISK_BOOT, OVH_RESCUE_BOOT, startOvhFake } from '../provider/ovh-fake.js';
import { armOvh, armRobot, OVH_SERVICE, rescueKeys } from './rescue-fixtures.js';
import { answersToml, assertInstalled, assertNoLeaks, makeFlake, readTree, useInstallerLab, type Flake } from './harness.js';

const skip = netnsSkipReason();
/** The steps of one `rebuild --via-rescue` run that went through, in order. */
const ALL_STEPS = ['rescue-enable', 'rescue-reset', 'rescue-wait', 'rescue-boot-disk', 'write', 'keys', 'recipients', 'preflight', 'kexec', 'disko', 'install', 'reboot', 'verify'];

describe('rebuild --via-rescue end to end: Hetzner Robot and OVHcloud fakes, namespace targets, the real nixos-anywhere.sh', { skip: skip ?? false, timeout: 12 * 60_000 }, () => {
  const lab = useInstallerLab();
  const keys = rescueKeys();
  after(() => keys.cleanup());

  /** A web1 installed by new-host (the operator's starting point), its target, and its installed key. */
  async function installedWeb1(): Promise<{ t: LabTarget; f: Flake; installedFp: string }> {
    const t = await lab().addTarget({ rebootSleepSeconds: 1 });
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'web1.toml'), answersToml(t, 'web1'));
      assertInstalled(await f.cli(['new-host', '--answers', join(f.dir, 'web1.toml')]));
    } catch (e) {
      await f.close();
      throw e;
    }
    return { t, f, installedFp: t.fingerprint };
  }

  /** --yes with a provider that does not expose the rescue key and no --host-key: refused, exit 2. */
  async function assertRefusedWithoutHostKey(f: Flake, t: LabTarget, label: string): Promise<void> {
    const refused = await f.cli(['rebuild', 'web1', '--via-rescue', '--yes', '-i', t.clientKeyPath]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`${label} does not expose the host key of web1's rescue system`));
    assert.match(refused.stderr, /--host-key SHA256:/);
  }

  /** What every successful rescue rebuild leaves: an installed, verified host with its own key again. */
  function assertRebuilt(f: Flake, t: LabTarget, r: CliResult, installedFp: string, rescueBlob: string): void {
    assertInstalled(r);
    const st = t.state();
    assert.deepEqual([st.rescues, st.kexecs, st.reboots, st.phase], [1, 2, 2, 'installed']);
    assert.deepEqual(st.events.slice(-4), ['broken', 'rescue', 'kexec', 'reboot']);
    assert.equal(t.fingerprint, installedFp, 'the rebuilt host presents its provisioned key again');
    assert.equal((JSON.parse(r.stdout) as { hostKey: { fingerprint: string } }).hostKey.fingerprint, installedFp);
    const entries = readFileSync(join(f.dir, '.bootstrap/state/web1/journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runId: string; stepId: string; status: string });
    const last = entries.at(-1)!.runId;
    assert.deepEqual(entries.filter((e) => e.runId === last && e.status === 'done').map((e) => e.stepId), ALL_STEPS, 'rescue and install in one run; the disk boot is set before the reboot');
    const knownHosts = readFileSync(join(f.dir, '.bootstrap/known_hosts'), 'utf8');
    assert.ok(knownHosts.includes(t.hostPub.split(' ')[1]!), 'the installed key is pinned');
    assert.ok(!knownHosts.includes(rescueBlob), 'the rescue key is no longer pinned');
    assert.ok(assertNoLeaks(f) > 0);
  }

  test('Hetzner Robot: key deposited, rescue activated with its fingerprint, hw reset, installed, verified; the activation was used by the boot', async () => {
    const { t, f, installedFp } = await installedWeb1();
    const robot = await startHetznerRobotFake();
    const pending: Promise<void>[] = [];
    try {
      const rk = keys.make('robot');
      await armRobot(robot, f, t, rk, 'web1', pending);
      appendFileSync(join(f.dir, 'hosts/web1/bootstrap.toml'), '\n[provider]\nkind = "hetzner-robot"\nserver = "web1"\ncredentials = "providers/robot"\n');
      await t.breakSsh();
      assert.equal(t.state().phase, 'broken', 'web1 no longer answers SSH');

      await assertRefusedWithoutHostKey(f, t, 'Hetzner Robot');
      assert.equal(robot.requests.length, 0, 'refused before any API call');

      const r = await f.cli(['rebuild', 'web1', '--via-rescue', '--yes', '-i', t.clientKeyPath, '--host-key', rk.fingerprint, '--wait-timeout', '60', '--json']);
      await Promise.all(pending);
      assertRebuilt(f, t, r, installedFp, rk.blob);

      const op = parseOperatorKey(readFileSync(`${t.clientKeyPath}.pub`, 'utf8'), 'client key');
      assert.deepEqual(robot.requests.map((q) => `${q.method} ${q.path}`), [
        'GET /server', 'GET /key', 'POST /key', 'GET /boot/321', 'POST /boot/321/rescue', 'GET /reset/321', 'POST /reset/321', 'GET /boot/321/rescue',
      ]);
      const basic = `Basic ${Buffer.from(`${robot.user}:${robot.password}`).toString('base64')}`;
      assert.ok(robot.requests.every((q) => q.headers.authorization === basic), 'every call with Basic auth');
      const posts = robot.requests.filter((q) => q.method === 'POST');
      assert.ok(posts.every((q) => q.headers['content-type'] === 'application/x-www-form-urlencoded'));
      assert.deepEqual([...posts[0]!.form], [['name', `nixos-bootstrap ${op.md5.replace(/:/g, '').slice(0, 12)}`], ['data', op.line]]);
      assert.equal(posts[1]!.body, `os=linux&authorized_key%5B%5D=${encodeURIComponent(op.md5)}`);
      assert.equal(posts[2]!.body, 'type=hw');
      assert.deepEqual(robot.servers[0]!.resets, ['hw']);
      assert.equal(robot.servers[0]!.rescue, false, 'no rescue activation left: the next boot is from disk');
      const kept = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap')) + readTree(join(f.dir, 'hosts'));
      assert.ok(!kept.includes(robot.password) && !kept.includes('jEt0dtUvomJ2EgRobot'), 'a Robot secret leaked');
    } finally {
      await Promise.allSettled(pending);
      robot.onReset = undefined;
      await robot.close();
      await f.close();
    }
  });

  test('OVHcloud dedicated: signed calls, rescue netboot with our key, reboot task, installed, verified; netboot back to the disk before the reboot', async () => {
    const { t, f, installedFp } = await installedWeb1();
    const ovh = await startOvhFake();
    const pending: Promise<void>[] = [];
    try {
      const sn = OVH_SERVICE;
      const rk = keys.make('ovh');
      await armOvh(ovh, f, t, rk, pending);
      appendFileSync(join(f.dir, 'hosts/web1/bootstrap.toml'), `\n[provider]\nkind = "ovh"\nendpoint = "ovh-eu"\nserver = "${sn}"\ncredentials = "providers/ovh"\n`);
      await t.breakSsh();
      assert.equal(t.state().phase, 'broken', 'web1 no longer answers SSH');

      await assertRefusedWithoutHostKey(f, t, 'OVHcloud');
      assert.equal(ovh.requests.length, 0, 'refused before any API call');

      const r = await f.cli(['rebuild', 'web1', '--via-rescue', '--yes', '-i', t.clientKeyPath, '--host-key', rk.fingerprint, '--wait-timeout', '60', '--json']);
      await Promise.all(pending);
      assertRebuilt(f, t, r, installedFp, rk.blob);

      const d = `/dedicated/server/${sn}`;
      assert.deepEqual(ovh.requests.map((q) => `${q.method} ${q.path.replace(/task\/\d+$/, 'task/N')}`), [
        'GET /auth/time', `GET ${d}`, `GET ${d}/boot?bootType=rescue`, ...OVH_BOOTS.filter((b) => b.bootType === 'rescue').map((b) => `GET ${d}/boot/${b.bootId}`), `PUT ${d}`, `POST ${d}/reboot`, `GET ${d}/task/N`, `GET ${d}/boot?bootType=harddisk`, `PUT ${d}`,
      ]);
      assert.equal(ovh.requests[0]!.headers['x-ovh-signature'], undefined, '/auth/time is not signed');
      for (const q of ovh.requests.slice(1)) {
        assert.equal(q.signatureOk, true, `${q.method} ${q.path} signed as documented`);
        assert.equal(q.headers['x-ovh-application'], ovh.ak);
        assert.equal(q.headers['x-ovh-consumer'], ovh.ck);
        assert.ok(Math.abs(Number(q.headers['x-ovh-timestamp']) - (Math.floor(Date.now() / 1000) + ovh.skewSeconds)) < 300, 'timestamps follow the API clock (/auth/time), not ours');
      }
      const op = parseOperatorKey(readFileSync(`${t.clientKeyPath}.pub`, 'utf8'), 'client key');
      const puts = ovh.requests.filter((q) => q.method === 'PUT');
      assert.deepEqual(JSON.parse(puts[0]!.body), { bootId: OVH_RESCUE_BOOT, rescueSshKey: op.line });
      assert.deepEqual(JSON.parse(puts[1]!.body), { bootId: OVH_DISK_BOOT });
      assert.equal(ovh.dedicated[0]!.bootId, OVH_DISK_BOOT, 'the next boot is from the disk');
      assert.equal(ovh.dedicated[0]!.reboots, 1, 'one API reboot; the installed system rebooted itself');
      const kept = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap')) + readTree(join(f.dir, 'hosts'));
      assert.ok(!kept.includes(ovh.as) && !kept.includes(ovh.ck), 'an OVH secret leaked');
    } finally {
      await Promise.allSettled(pending);
      ovh.onReboot = undefined;
      await ovh.close();
      await f.close();
    }
  });
});

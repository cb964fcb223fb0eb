/**
 * End to end (issue 13): a host that no longer answers SSH is rebuilt through its provider's rescue
 * system. The provider is a local HTTPS fake of the Hetzner Cloud API (test/provider); resetting a
 * server with rescue armed boots the namespace target into a "rescue system" (installer-lab.ts
 * bootRescue) whose root logs in with exactly the keys the API was given. The real nixos-anywhere.sh
 * then installs it as in install.e2e.test.ts. Root only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { netnsSkipReason } from '../helpers/netns.js';
import { fakeServer, startHetznerCloudFake, type HetznerCloudFake } from '../provider/hetzner-cloud-fake.js';
import { startHetznerRobotFake } from '../provider/hetzner-robot-fake.js';
import { OVH_BOOTS, OVH_DISK_BOOT, startOvhFake } from '../provider/ovh-fake.js';
import { armOvh, armRobot, OVH_SERVICE, rescueKeys, storeSecrets } from './rescue-fixtures.js';
import { answersToml, assertInstalled, assertNoLeaks, makeFlake, readTree, useInstallerLab } from './harness.js';

const skip = netnsSkipReason();

describe('rescue end to end: provider API fakes, namespace targets, the real nixos-anywhere.sh', { skip: skip ?? false, timeout: 10 * 60_000 }, () => {
  const lab = useInstallerLab();
  let fake: HetznerCloudFake;
  const keys = rescueKeys();
  const rescueKey = keys.make;
  before(async () => { fake = await startHetznerCloudFake(); });
  after(async () => { await fake?.close(); keys.cleanup(); });

  test('a broken web1 is reset into rescue through the API, installed, verified; --yes without a trusted key is refused first', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    const pending: Promise<void>[] = [];
    try {
      f.env.BOOTSTRAP_TEST_HCLOUD_URL = fake.url; // the fake's base URL (tests only)
      f.env.NODE_EXTRA_CA_CERTS = fake.cert.certPath; // trust its self-signed certificate
      writeFileSync(join(f.dir, 'web1.toml'), answersToml(t, 'web1'));
      assertInstalled(await f.cli(['new-host', '--answers', join(f.dir, 'web1.toml')]));
      const installedFp = t.fingerprint;

      fake.servers.push(fakeServer(4711, 'web1', t.ip));
      let nextRescue = rescueKey('r1');
      fake.onReset = (_s, registered) => {
        pending.push(t.bootRescue({ authorizedKeys: registered.map((k) => k.public_key), hostKeyPath: nextRescue.path }));
      };
      appendFileSync(join(f.dir, 'hosts/web1/bootstrap.toml'), '\n[provider]\nkind = "hetzner-cloud"\nserver = "web1"\ncredentials = "providers/hcloud"\n');
      await storeSecrets(f, [['providers/hcloud/token', fake.token]]);
      await t.breakSsh();

      // --yes, and Hetzner Cloud does not expose the rescue key: refused before any API call.
      const refused = await f.cli(['rebuild', 'web1', '--via-rescue', '--yes', '-i', t.clientKeyPath]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /does not expose the host key of web1's rescue system/);
      assert.match(refused.stderr, /--host-key SHA256:/);
      assert.equal(fake.requests.length, 0, 'no API call');
      assert.equal(t.state().phase, 'broken');

      // The first run gets the host into its rescue and fails in disko (a lab switch); --resume finishes it
      // without touching the provider again.
      writeFileSync(join(t.dir.tmp, 'nb-lab-fail-disko'), '');
      const args = ['rebuild', 'web1', '--via-rescue', '--yes', '-i', t.clientKeyPath, '--host-key', nextRescue.fingerprint, '--wait-timeout', '60'];
      const failed = await f.cli(args);
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stderr, /nixos-anywhere failed in phase disko/);
      await Promise.all(pending);
      const apiCalls = fake.requests.length;
      const r = await f.cli([...args, '--resume', '--json']);
      assertInstalled(r);
      assert.equal(fake.requests.length, apiCalls, 'the resumed run made no API call: its rescue had finished');
      // The API calls, in order, each with the token.
      const calls = fake.requests.map((q) => `${q.method} ${q.path.replace(/\/actions\/\d+$/, '/actions/N').replace(/fingerprint=[^&]+/, 'fingerprint=MD5')}`);
      assert.deepEqual(calls, [
        'GET /v1/servers?name=web1',
        'GET /v1/ssh_keys?fingerprint=MD5',
        'POST /v1/ssh_keys',
        'POST /v1/servers/4711/actions/enable_rescue',
        'GET /v1/actions/N',
        'GET /v1/servers/4711',
        'POST /v1/servers/4711/actions/reset',
        'GET /v1/actions/N',
        'GET /v1/servers/4711',
      ]);
      assert.ok(fake.requests.every((q) => q.headers.authorization === `Bearer ${fake.token}`));
      assert.equal(JSON.parse(fake.requests[2]!.body).public_key, readFileSync(`${t.clientKeyPath}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '));
      // The target went broken → rescue → installer → installed, and presents the provisioned key again.
      const st = t.state();
      assert.deepEqual([st.rescues, st.kexecs, st.reboots, st.phase], [1, 2, 2, 'installed']);
      assert.deepEqual(st.events.slice(-4), ['broken', 'rescue', 'kexec', 'reboot']);
      assert.equal(t.fingerprint, installedFp);
      assert.match(readFileSync(join(f.dir, 'hosts/web1/bootstrap.toml'), 'utf8'), /\[provider\]\nkind = "hetzner-cloud"/, 'the rewritten manifest keeps [provider]');
      const summary = JSON.parse(r.stdout) as { ran: string[]; hostKey: { fingerprint: string } };
      assert.equal(summary.hostKey.fingerprint, installedFp);
      // The rescue steps are journaled in the same run as the install steps; the resumed run starts at disko.
      const entries = readFileSync(join(f.dir, '.bootstrap/state/web1/journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runId: string; stepId: string; status: string });
      const runIds = [...new Set(entries.map((e) => e.runId))];
      const [first, resumed] = runIds.slice(-2);
      assert.deepEqual(entries.filter((e) => e.runId === first && e.status === 'done').map((e) => e.stepId),
        ['rescue-enable', 'rescue-reset', 'rescue-wait', 'rescue-boot-disk', 'write', 'keys', 'recipients', 'preflight', 'kexec']);
      assert.deepEqual(entries.filter((e) => e.runId === first && e.status === 'failed').map((e) => e.stepId), ['disko']);
      assert.deepEqual(entries.filter((e) => e.runId === resumed && e.status === 'done').map((e) => e.stepId), ['disko', 'install', 'reboot', 'verify']);
      // known_hosts ends with the installed key; the token never appears in output or state.
      assert.match(readFileSync(join(f.dir, '.bootstrap/known_hosts'), 'utf8'), new RegExp(`^${t.ip.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
      const kept = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap')) + readTree(join(f.dir, 'hosts'));
      assert.ok(!kept.includes(fake.token), 'the API token leaked');
      assert.ok(!kept.includes('zCWbFhnu950dT6F4rescue'), 'the rescue root password leaked');
      assert.ok(assertNoLeaks(f) > 0);

      // `bootstrap rescue`: a rescue that presents another key than --host-key stops unpinned; --resume
      // with the right key continues at the wait (no second reset).
      await t.breakSsh();
      nextRescue = rescueKey('r2');
      fake.reset();
      const wrong = await f.cli(['rescue', 'web1', '--yes', '-i', t.clientKeyPath, '--host-key', rescueKey('other').fingerprint, '--wait-timeout', '60']);
      assert.equal(wrong.code, 1, wrong.stderr);
      assert.match(wrong.stderr, new RegExp(`presents host key ${nextRescue.fingerprint.replace(/[+/]/g, '.')}.*not the rescue system's`));
      await Promise.all(pending);
      assert.ok(!readFileSync(join(f.dir, '.bootstrap/known_hosts'), 'utf8').includes(readFileSync(`${nextRescue.path}.pub`, 'utf8').split(' ')[1]!), 'nothing pinned');
      const resets = fake.servers[0]!.resets;
      const ok = await f.cli(['rescue', 'web1', '--resume', '--yes', '-i', t.clientKeyPath, '--host-key', nextRescue.fingerprint, '--json']);
      assert.equal(ok.code, 0, ok.stderr);
      const out = JSON.parse(ok.stdout) as { rescueHostKey: { fingerprint: string }; ran: string[]; skipped: string[] };
      assert.equal(out.rescueHostKey.fingerprint, nextRescue.fingerprint);
      assert.deepEqual(out.ran, ['rescue-wait', 'rescue-boot-disk']);
      assert.equal(fake.servers[0]!.resets, resets, 'no second reset');
      assert.equal(t.state().phase, 'rescue');
    } finally {
      await Promise.allSettled(pending);
      fake.onReset = undefined;
      await f.close();
    }
  });

  test('bootstrap rescue through the Hetzner Robot fake: key deposited, rescue activated, hw reset, the rescue key pinned', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    const robot = await startHetznerRobotFake();
    const pending: Promise<void>[] = [];
    try {
      const rk = rescueKey('robot');
      await armRobot(robot, f, t, rk, 'db1', pending);
      // As on a real account after an earlier attempt whose reset never came: rescue is still armed,
      // and Robot answers a second activation with 409 BOOT_ALREADY_ENABLED.
      robot.servers[0]!.rescue = true;
      mkdirSync(join(f.dir, 'hosts/db1'), { recursive: true });
      writeFileSync(join(f.dir, 'hosts/db1/bootstrap.toml'), `version = 1\nhost = "db1"\ntarget = "root@${t.ip}"\nprofile = "hetzner-dedicated"\n\n[layout]\nname = "ext4"\n\n[installDisk]\npath = "/dev/sda"\nsizeBytes = 1000\n\n[provider]\nkind = "hetzner-robot"\nserver = "${t.ip}"\ncredentials = "providers/robot"\n`);
      await t.breakSsh();
      const r = await f.cli(['rescue', 'db1', '--yes', '-i', t.clientKeyPath, '--host-key', rk.fingerprint, '--wait-timeout', '60']);
      assert.equal(r.code, 0, r.stderr);
      await Promise.all(pending);
      assert.match(r.stdout, new RegExp(`host key ${rk.fingerprint.replace(/[+/]/g, '.')} is pinned`));
      assert.match(r.stdout + r.stderr, /the active rescue boot configuration of db1 was deleted to arm the rescue/);
      assert.deepEqual(robot.requests.map((q) => `${q.method} ${q.path}`), [
        'GET /server', 'GET /key', 'POST /key', 'GET /boot/321', 'DELETE /boot/321/rescue', 'POST /boot/321/rescue', 'GET /reset/321', 'POST /reset/321', 'GET /boot/321/rescue',
      ]);
      assert.equal(t.state().phase, 'rescue');
      // The rescue really lets in the -i key (the one deposited through the API), and only the pinned key is trusted.
      const out = execFileSync('ssh', ['-i', t.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${join(f.dir, '.bootstrap/known_hosts')}`,
        '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', `root@${t.ip}`, 'grep ^ID= /etc/os-release']).toString();
      assert.equal(out.trim(), 'ID=debian');
      const kept = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap'));
      assert.ok(!kept.includes(robot.password) && !kept.includes('jEt0dtUvomJ2EgRobot'), 'a Robot secret leaked');
    } finally {
      await Promise.allSettled(pending);
      await robot.close();
      await f.close();
    }
  });

  test('bootstrap rescue through the OVHcloud fake (dedicated): signed calls, rescue netboot with our key, reboot, netboot back to the disk', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    const ovh = await startOvhFake();
    const pending: Promise<void>[] = [];
    try {
      const sn = OVH_SERVICE;
      const rk = rescueKey('ovh');
      await armOvh(ovh, f, t, rk, pending);
      mkdirSync(join(f.dir, 'hosts/db2'), { recursive: true });
      writeFileSync(join(f.dir, 'hosts/db2/bootstrap.toml'), `version = 1\nhost = "db2"\ntarget = "root@${t.ip}"\nprofile = "generic-bare-metal"\n\n[layout]\nname = "ext4"\n\n[installDisk]\npath = "/dev/sda"\nsizeBytes = 1000\n\n[provider]\nkind = "ovh"\nendpoint = "ovh-eu"\nserver = "${sn}"\ncredentials = "providers/ovh"\n`);
      await t.breakSsh();
      const r = await f.cli(['rescue', 'db2', '--yes', '-i', t.clientKeyPath, '--host-key', rk.fingerprint, '--wait-timeout', '60', '--json']);
      assert.equal(r.code, 0, r.stderr);
      await Promise.all(pending);
      assert.equal((JSON.parse(r.stdout) as { rescueHostKey: { fingerprint: string } }).rescueHostKey.fingerprint, rk.fingerprint);
      const d = `/dedicated/server/${sn}`;
      assert.deepEqual(ovh.requests.map((q) => `${q.method} ${q.path.replace(/task\/\d+/, 'task/N')}`), [
        'GET /auth/time', `GET ${d}`, `GET ${d}/boot?bootType=rescue`, ...OVH_BOOTS.filter((b) => b.bootType === 'rescue').map((b) => `GET ${d}/boot/${b.bootId}`), `PUT ${d}`, `POST ${d}/reboot`, `GET ${d}/task/N`, `GET ${d}/boot?bootType=harddisk`, `PUT ${d}`,
      ]);
      assert.ok(ovh.requests.slice(1).every((q) => q.signatureOk), 'every call signed as documented');
      assert.equal(ovh.dedicated[0]!.bootId, OVH_DISK_BOOT, 'the next boot is from disk again');
      assert.equal(t.state().phase, 'rescue');
      const kept = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap'));
      assert.ok(!kept.includes(ovh.as) && !kept.includes(ovh.ck), 'an OVH secret leaked');
    } finally {
      await Promise.allSettled(pending);
      await ovh.close();
      await f.close();
    }
  });
});


/**
 * `bootstrap deploy` against the deploy lab (deploy-lab.ts): namespace hosts with a real generation
 * layout, whose switch-to-configuration really restarts their sshd with the new generation's
 * ports, and whose rollback timer (the systemd-run shim) really runs in the background until its
 * deadline. One lab for every case: web1 takes the deploys, web2 joins for the canary and takes
 * the fleet cache's; `hidden` is reachable only through the bastion namespace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
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
      await lab.addBastion();
      await lab.addHost('hidden', GOOD, undefined, { behindBastion: true });
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(async () => {
    await lab?.teardown();
  });

  const cli = (...args: string[]) => runCli([...args, '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5'], { env: lab.env, timeoutMs: 120_000 });
  const cliEnv = (env: Record<string, string>, ...args: string[]) => runCli([...args, '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5'], { env: { ...lab.env, ...env }, timeoutMs: 120_000 });
  const connectionsTo = (name: string) => (readFileSync(join(lab.hosts[name]!.net.dir, 'sshd.log'), 'utf8').match(/Connection from/g) ?? []).length;
  const inHostStore = (name: string, path: string) => existsSync(join(lab.hosts[name]!.fs, 'store', basename(path)));
  const hostStore = (name: string) => readdirSync(join(lab.hosts[name]!.fs, 'store')).sort();
  type CopyDoc = { from: string; reason: string; missing?: string; sentBytes: number; receivedBytes: number; connections: number };
  type DeployDoc = { hosts: Array<{ status: string; toplevel: string; copy?: CopyDoc; error?: { code: string; message: string } }> };
  /** The same, with the FAKE nix's call log: what deploy evaluated, built and copied. */
  const logged = async (...args: string[]) => {
    const log = join(lab.flakeDir, '..', `nix-calls-${Date.now()}.jsonl`);
    const r = await runCli([...args, '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5'], { env: { ...lab.env, FAKE_NIX_LOG: log }, timeoutMs: 120_000 });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; argv: string[] }) : [];
    return { ...r, calls };
  };

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

  test('a no-change deploy copies, switches, arms and confirms nothing, and still reports (the declared checks included)', async () => {
    // web1 runs and boots what its flake builds now (the test above deployed it).
    const running = lab.current('web1');
    const profile = lab.profile('web1');
    assert.equal(profile.target, running);
    const systemd = join(lab.hosts.web1!.fs, 'run/lab-systemd');
    const armedBefore = readdirSync(systemd);
    const journal = join(lab.flakeDir, '.bootstrap/state/web1/deploy-journal.jsonl');
    const linesBefore = readFileSync(journal, 'utf8').trim().split('\n').length;
    const r = await cli('deploy', 'web1', '--confirm-timeout', '60', '--json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const doc = JSON.parse(r.stdout) as { hosts: Array<{ status: string; toplevel: string; health?: { status: string; checks: Array<{ id: string; status: string }> } }> };
    assert.equal(doc.hosts[0]!.status, 'unchanged');
    assert.equal(doc.hosts[0]!.toplevel, running);
    // The lab host warns about what it lacks (e.g. swap); a failed check would have failed the deploy.
    assert.ok(doc.hosts[0]!.health && doc.hosts[0]!.health.status !== 'fail' && doc.hosts[0]!.health.checks.length > 5, 'the report ran');
    assert.ok(doc.hosts[0]!.health.checks.some((c) => c.id === 'declared.unit:app.service' && c.status === 'ok'), 'the declared checks ran');
    assert.equal(lab.current('web1'), running, 'nothing was switched');
    assert.deepEqual(lab.profile('web1'), profile, 'no new generation, the boot default did not move');
    assert.deepEqual(readdirSync(systemd), armedBefore, 'no rollback timer was armed');
    const steps = readFileSync(journal, 'utf8').trim().split('\n').slice(linesBefore).map((l) => JSON.parse(l) as { stepId: string; status: string; detail?: string });
    const final = (id: string) => steps.filter((e) => e.stepId === id).pop();
    assert.deepEqual([final('copy')?.status, final('copy')?.detail], ['skipped', 'the host already runs this system']);
    assert.deepEqual([final('confirm')?.status, final('confirm')?.detail], ['skipped', 'the host already ran this system']);
    assert.equal(final('check')?.status, 'done');
    const text = await cli('deploy', 'web1', '--confirm-timeout', '60');
    assert.equal(text.code, 0, text.stderr + text.stdout);
    assert.match(text.stderr, /web1 already ran /);
    assert.match(text.stderr, /check the host over a new connection — .*\(nothing switched: over the connection the host was read on\)/);
    const dry = await cli('deploy', 'web1', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.match(dry.stdout, /would run: +\S+ \(no change\)\n(.*\n)* +steps: +build → inspect → check; 2 declared check/);
  });

  test('a deploy whose declared unit fails is rolled back by bootstrap: exit 4, the check named, the host verified on the old generation', async () => {
    const before = lab.current('web1');
    const profile = lab.profile('web1');
    lab.writeConfig('web1', { units: { app: 'echo app cannot open its database >&2; exit 1' } });
    const r = await cli('deploy', 'web1', '--confirm-timeout', '60');
    assert.equal(r.code, DEPLOY_ROLLED_BACK_EXIT, r.stderr + r.stdout);
    assert.match(r.stderr, /web1 was rolled back \(by bootstrap\): .*declared\.unit:app\.service \(unit app\.service is failed\)/);
    assert.match(r.stderr, /runs .* again \(verified over a new connection\)/);
    assert.equal(lab.current('web1'), before, 'the host runs the previous generation');
    assert.deepEqual(lab.profile('web1'), profile, 'the boot default did not move');
    assert.equal(readFileSync(join(lab.hosts.web1!.fs, 'run/lab-units/app.service'), 'utf8').trim(), 'active', "the previous generation's unit runs again");
    assert.equal(lab.sshRun('web1', 22, 'readlink -f /run/current-system')?.trim(), before);
    const j = await cli('deploy', 'web1', '--confirm-timeout', '60', '--json');
    assert.equal(j.code, DEPLOY_ROLLED_BACK_EXIT);
    const doc = JSON.parse(j.stdout) as { ok: boolean; hosts: Array<{ status: string; rollback: { by: string; current: string }; error: { code: string } }> };
    assert.equal(doc.ok, false);
    assert.equal(doc.hosts[0]!.status, 'rolled-back');
    assert.deepEqual(doc.hosts[0]!.rollback, { by: 'bootstrap', current: before });
    assert.equal(doc.hosts[0]!.error.code, 'deploy-check-failed');
  });

  test('the lock-out guard refuses a config that moves sshd to a port the firewall closes, before anything on the host changes; --dry-run shows it', async () => {
    const before = lab.current('web1');
    const profile = lab.profile('web1');
    const timers = () => readdirSync(join(lab.hosts.web1!.fs, 'run/lab-systemd'));
    const armedBefore = timers();
    lab.writeConfig('web1', { ports: [2222], openFirewall: false, units: { app: 'exit 0' } });
    const dry = await cli('deploy', 'web1', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.match(dry.stdout, /lock-out: +REFUSED \(--allow-lockout overrides\): sshd listens on 2222, not on port 22 .*the firewall lets port 22 through on no interface/);
    const r = await logged('deploy', 'web1', '--confirm-timeout', '60', '--json');
    assert.equal(r.code, 1, r.stderr + r.stdout);
    // Refused at once: one evaluation, nothing built, nothing copied (the guard runs before the build).
    assert.deepEqual(r.calls.map((c) => c.kind), ['eval'], JSON.stringify(r.calls.map((c) => c.argv.slice(-3))));
    assert.ok(r.calls[0]!.argv.some((a) => a.endsWith('#nixosConfigurations."web1".config')), 'the access evaluation of web1');
    const doc = JSON.parse(r.stdout) as { hosts: Array<{ status: string; error: { code: string; message: string; hint: string } }> };
    assert.equal(doc.hosts[0]!.status, 'failed');
    assert.equal(doc.hosts[0]!.error.code, 'lockout');
    assert.match(doc.hosts[0]!.error.hint, /services\.openssh\.ports = \[ 22 \].*services\.openssh\.openFirewall = true.*--allow-lockout; nothing on the host was changed/);
    assert.equal(lab.current('web1'), before, 'the host runs the same generation');
    assert.deepEqual(lab.profile('web1'), profile, 'the boot default did not move');
    assert.deepEqual(timers(), armedBefore, 'no rollback timer was armed');
    assert.equal(lab.sshRun('web1', 22, 'readlink -f /run/current-system')?.trim(), before);
    // sshd turned off: refused too, naming the option.
    lab.writeConfig('web1', { units: { app: 'exit 0' }, sshdOff: true });
    const off = await cli('deploy', 'web1', '--confirm-timeout', '60');
    assert.equal(off.code, 1, off.stderr + off.stdout);
    assert.match(off.stderr, /after this deploy you could not log into web1: sshd is disabled.*hint: set services\.openssh\.enable = true/s);
    assert.equal(lab.current('web1'), before);
    assert.deepEqual(timers(), armedBefore);
    // sshd bound to loopback only (ListenAddress), and an allow-list without root: refused before the build too.
    lab.writeConfig('web1', { units: { app: 'exit 0' }, extra: 'services.openssh.listenAddresses = [ { addr = "127.0.0.1"; } ];' });
    const lo = await logged('deploy', 'web1', '--confirm-timeout', '60');
    assert.equal(lo.code, 1, lo.stderr + lo.stdout);
    assert.match(lo.stderr, /sshd listens on port 22 only on 127\.0\.0\.1 \(ListenAddress\), which nobody outside the host reaches.*services\.openssh\.listenAddresses/s);
    assert.deepEqual(lo.calls.map((c) => c.kind), ['eval']);
    lab.writeConfig('web1', { units: { app: 'exit 0' }, extra: 'services.openssh.settings.AllowUsers = [ "admin" ];' });
    const au = await logged('deploy', 'web1', '--confirm-timeout', '60');
    assert.equal(au.code, 1, au.stderr + au.stdout);
    assert.match(au.stderr, /sshd refuses root, the user bootstrap logs in as: AllowUsers does not list root.*services\.openssh\.settings\.AllowUsers \(add "root"\)/s);
    assert.deepEqual(au.calls.map((c) => c.kind), ['eval']);
    assert.equal(lab.current('web1'), before);
    assert.deepEqual(timers(), armedBefore);
  });

  test('a deploy that moves sshd to a port bootstrap cannot reach, with bootstrap killed mid-way, is rolled back by the host\'s own timer', async () => {
    const before = lab.current('web1');
    const profile = lab.profile('web1');
    // The new generation listens on 2222 only; its slow unit keeps the switch busy while bootstrap is killed.
    lab.writeConfig('web1', { ports: [2222], units: { app: 'exit 0', migrate: 'sleep 4' } });
    const child = spawn(process.execPath, ['--import', `${REPO_ROOT}node_modules/tsx/dist/loader.mjs`, `${REPO_ROOT}src/bin.ts`, 'deploy', 'web1', '--confirm-timeout', '6', '--allow-lockout', '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5'], {
      env: { ...process.env, NO_COLOR: '1', ...lab.env, SSH_AUTH_SOCK: '' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    // What the killed run said, for the message of an assertion that fails before the kill.
    let said = '';
    child.stderr!.on('data', (b: Buffer) => (said += b.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      // Wait (bounded) until the host switched, then kill bootstrap before it can check or roll back.
      const until = Date.now() + 90_000;
      while (lab.current('web1') === before && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      assert.notEqual(lab.current('web1'), before, `the host switched to the new generation; bootstrap said:\n${said}`);
      // The switch points /run/current-system first, then restarts sshd (SIGHUP): wait (bounded)
      // until the new generation's sshd answers, so bootstrap is killed after the port moved.
      const moved = Date.now() + 15_000;
      while (Date.now() < moved && lab.sshRun('web1', 2222, 'true') === undefined) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGKILL');
      await exited;
      assert.equal(lab.sshRun('web1', 22, 'true'), undefined, 'right after the switch, the old port does not answer');
      assert.ok(lab.sshRun('web1', 2222, 'true') !== undefined, 'the new generation listens on 2222');
      // The timer fires 6 s after it was armed; wait (bounded) for the host to answer on 22 again.
      let back: string | undefined;
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline && (back = lab.sshRun('web1', 22, 'readlink -f /run/current-system')?.trim()) !== before) await new Promise((r) => setTimeout(r, 500));
      assert.equal(back, before, 'the host answers on the old port with the old generation');
      assert.deepEqual(lab.profile('web1'), profile, 'the boot default never moved');
      assert.equal(lab.sshRun('web1', 2222, 'true'), undefined, 'the new port is closed again');
      const logs = readdirSync(join(lab.hosts.web1!.fs, 'run/lab-systemd')).filter((f) => f.endsWith('.log'));
      assert.ok(logs.some((f) => /^fired /m.test(readFileSync(join(lab.hosts.web1!.fs, 'run/lab-systemd', f), 'utf8'))), 'the timer fired');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  test('a deploy killed after its switch is confirmed by --resume, and the killed run\'s timer never fires afterwards', async () => {
    const before = lab.current('web1');
    lab.writeConfig('web1', { units: { app: 'exit 0', migrate: 'sleep 4' }, motd: 'resumed' });
    const child = spawn(process.execPath, ['--import', `${REPO_ROOT}node_modules/tsx/dist/loader.mjs`, `${REPO_ROOT}src/bin.ts`, 'deploy', 'web1', '--confirm-timeout', '20', '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5'], {
      env: { ...process.env, NO_COLOR: '1', ...lab.env, SSH_AUTH_SOCK: '' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    // What the killed run said, for the message of an assertion that fails before the kill.
    let said = '';
    child.stderr!.on('data', (b: Buffer) => (said += b.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      const until = Date.now() + 90_000;
      while (lab.current('web1') === before && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const next = lab.current('web1');
      assert.notEqual(next, before, `the host switched; bootstrap said:\n${said}`);
      child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      const r = await cli('deploy', 'web1', '--resume', '--confirm-timeout', '60');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(lab.current('web1'), next);
      // Past the killed run's deadline (20 s after it armed, before the kill): still the new system.
      const wait = killedAt + 24_000 - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      assert.equal(lab.current('web1'), next, "the killed run's timer did not roll the confirmed deploy back");
      assert.equal(lab.profile('web1').target, next, 'it is the boot default');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  test('sshd moved to a port bootstrap cannot reach: bootstrap rolls back over the connection it opened before the switch', async () => {
    const before = lab.current('web1');
    lab.writeConfig('web1', { ports: [2222], units: { app: 'exit 0' } });
    // Built "on the host" this time (the FAKE nix copies its result there over the pinned ssh).
    const r = await cli('deploy', 'web1', '--confirm-timeout', '60', '--build-on', 'remote', '--allow-lockout');
    assert.equal(r.code, DEPLOY_ROLLED_BACK_EXIT, r.stderr + r.stdout);
    assert.match(r.stderr, /would lock you out \(--allow-lockout\): sshd listens on 2222, not on port 22/);
    const journal = readFileSync(join(lab.flakeDir, '.bootstrap/state/web1/deploy-journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stepId: string; status: string; detail?: string });
    const override = journal.filter((e) => e.stepId === 'switch' && e.status === 'done').pop();
    assert.match(override?.detail ?? '', /^--allow-lockout: sshd-port: /, 'the override is in the deploy journal');
    assert.match(r.stderr, /copy the closure to the host .*skipped: built on the host/);
    assert.match(r.stderr, /web1 was rolled back \(by bootstrap\): the host could not be checked over a new connection: /);
    assert.equal(lab.sshRun('web1', 22, 'readlink -f /run/current-system')?.trim(), before, 'back on port 22 with the old generation');
  });

  test('a canary that rolls back stops the fleet: the other host is not touched', async () => {
    lab.writeConfig('web1', { units: { app: 'exit 1' } });
    lab.writeConfig('web2', { ...GOOD, motd: 'web2 would change' });
    const web2 = lab.current('web2');
    const r = await cli('deploy', 'web1', 'web2', '--canary', '1', '--parallel', '2', '--confirm-timeout', '60', '--json');
    assert.equal(r.code, DEPLOY_ROLLED_BACK_EXIT, r.stderr + r.stdout);
    const doc = JSON.parse(r.stdout) as { hosts: Array<{ host: string; status: string; error?: { code: string } }> };
    assert.deepEqual(doc.hosts.map((h) => [h.host, h.status, h.error?.code]), [['web1', 'rolled-back', 'deploy-check-failed'], ['web2', 'skipped', 'canary-failed']]);
    assert.equal(lab.current('web2'), web2, 'web2 was not deployed');
    assert.ok(!existsSync(join(lab.flakeDir, '.bootstrap/state/web2/deploy-journal.jsonl')), 'web2 was not even started');
  });

  test('a host only a bastion reaches: a direct connection fails; deploy goes through the bastion for every connection, the copy included', async () => {
    const h = lab.hosts.hidden!;
    assert.throws(() => execFileSync('ssh', ['-i', lab.clientKey, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `root@${h.privateIp}`, 'true'], { stdio: 'ignore', timeout: 20_000 }),
      'the host cannot be reached directly from here');
    const bastionBefore = (readFileSync(join(lab.bastion!.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
    lab.writeConfig('hidden', { ...GOOD, motd: 'through the bastion' });
    const r = await cli('deploy', 'hidden', '--confirm-timeout', '60', '--json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const doc = JSON.parse(r.stdout) as DeployDoc;
    const d = doc.hosts[0]!;
    assert.equal(d.status, 'deployed');
    assert.equal(lab.current('hidden'), d.toplevel, 'the host runs the new system');
    assert.ok(inHostStore('hidden', d.toplevel), "the copy brought the system into the host's own store");
    assert.equal(d.copy?.from, 'operator');
    assert.match(d.copy!.reason, /no attic cache is configured/);
    assert.ok(d.copy!.sentBytes > 0, `the copy's bytes were counted: ${JSON.stringify(d.copy)}`);
    // The FAKE nix's two ssh calls (what the host lacks, then the tar), each counted once: the bastion's
    // connection wrapping each one is not counted again.
    assert.equal(d.copy!.connections, 2, JSON.stringify(d.copy));
    assert.match(r.stderr, /nix copy|copy the closure/);
    const bastionAfter = (readFileSync(join(lab.bastion!.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
    assert.ok(bastionAfter - bastionBefore >= 3, `the copy, the switch and the check all went through the bastion (${bastionAfter - bastionBefore} logins there)`);
  });

  test('a wrong key for the bastion is refused before the host behind it is contacted: nothing copied, nothing switched', async () => {
    const before = lab.current('hidden');
    lab.writeConfig('hidden', { ...GOOD, motd: 'never arrives' });
    const seen = connectionsTo('hidden');
    const store = hostStore('hidden');
    lab.pinWrongKey('bastion');
    try {
      // Built on the host, so nix's ssh (through the guard) is the first connection of the run, before
      // bootstrap's own (inspect), which would refuse the key too (host-key-changed).
      const r = await cli('deploy', 'hidden', '--confirm-timeout', '60', '--build-on', 'remote', '--json');
      assert.equal(r.code, 1, r.stderr + r.stdout);
      const d = (JSON.parse(r.stdout) as DeployDoc).hosts[0]!;
      assert.equal(d.status, 'failed');
      assert.equal(d.error?.code, 'host-key-mismatch', JSON.stringify(d.error));
      assert.match(d.error!.message, /presented SHA256:\S+, which is not the key pinned in .*known_hosts; nothing was sent over that connection/);
      assert.equal(connectionsTo('hidden'), seen, 'no connection reached the host behind the bastion');
      assert.deepEqual(hostStore('hidden'), store, 'nothing was copied');
      assert.equal(lab.current('hidden'), before, 'nothing was switched');
    } finally {
      lab.restorePins();
    }
  });

  test("a host presenting another key than the pinned one gets nothing: refused by bootstrap's connection, and by nix's at the handshake", async () => {
    const before = lab.current('web1');
    lab.writeConfig('web1', { ...GOOD, motd: 'not for an impostor' });
    lab.pinWrongKey('web1');
    try {
      // Built here: bootstrap's own first connection (inspect) refuses the key, before any copy.
      const here = await cli('deploy', 'web1', '--confirm-timeout', '60', '--json');
      assert.equal(here.code, 1, here.stderr + here.stdout);
      const h = (JSON.parse(here.stdout) as DeployDoc).hosts[0]!;
      assert.equal(h.error?.code, 'host-key-changed', JSON.stringify(h.error));
      assert.ok(!inHostStore('web1', h.toplevel), 'nothing was copied');
      // Built on the host: nix's ssh goes first, and the guard refuses the key at the handshake.
      const store = hostStore('web1');
      const r = await cli('deploy', 'web1', '--confirm-timeout', '60', '--build-on', 'remote', '--json');
      assert.equal(r.code, 1, r.stderr + r.stdout);
      const d = (JSON.parse(r.stdout) as DeployDoc).hosts[0]!;
      assert.equal(d.error?.code, 'host-key-mismatch', JSON.stringify(d.error));
      assert.deepEqual(hostStore('web1'), store, 'nothing was copied');
      assert.equal(lab.current('web1'), before);
    } finally {
      lab.restorePins();
    }
  });

  test('the fleet cache: an untrusting host gets the closure streamed (and is told why); a trusting one substitutes it from the cache, few bytes from here', async () => {
    const cache = await lab.startCache();
    const big = { FAKE_NIX_CLOSURE_BYTES: '2000000' };
    cache.configure(true);
    try {
      lab.writeConfig('web2', { ...GOOD, motd: 'a big closure' });
      const first = await cliEnv(big, 'deploy', 'web2', '--confirm-timeout', '60', '--json');
      assert.equal(first.code, 0, first.stderr + first.stdout);
      const streamed = (JSON.parse(first.stdout) as DeployDoc).hosts[0]!;
      assert.equal(streamed.copy?.from, 'operator');
      assert.match(streamed.copy!.reason, /^cache "main" is configured, but web2 would refuse its paths: it has no \/etc\/nix\/nix\.conf \(import \.\/cache\.nix in hosts\/web2\/default\.nix and deploy once\)$/);
      assert.ok(streamed.copy!.sentBytes > 2_000_000, `the whole closure crossed from here: ${streamed.copy!.sentBytes} B`);
      assert.match(first.stderr, /closure: what the host's own caches lack is streamed from here over ssh: cache "main" is configured, but web2 would refuse its paths/);

      cache.trust('web2');
      lab.writeConfig('web2', { ...GOOD, motd: 'a big closure, again' });
      const pushesBefore = cache.attic.log.filter((l) => l.what === 'upload-path').length;
      // --dry-run says where the closure would come from, and pushes nothing.
      const dry = await cliEnv(big, 'deploy', 'web2', '--dry-run', '--json');
      assert.equal(dry.code, 0, dry.stderr + dry.stdout);
      const plan = (JSON.parse(dry.stdout) as { hosts: Array<{ copy?: CopyDoc }> }).hosts[0]!;
      assert.deepEqual([plan.copy?.from, plan.copy?.missing], ['cache', 'pushed']);
      assert.match(plan.copy!.reason, /web2 substitutes from cache "main" .*; what it lacks would be pushed first with attic/);
      assert.equal(cache.attic.log.filter((l) => l.what === 'upload-path').length, pushesBefore, 'a dry run pushes nothing');
      const r = await cliEnv(big, 'deploy', 'web2', '--confirm-timeout', '60', '--json');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const d = (JSON.parse(r.stdout) as DeployDoc).hosts[0]!;
      assert.equal(d.status, 'deployed');
      assert.equal(lab.current('web2'), d.toplevel);
      assert.ok(inHostStore('web2', d.toplevel), "the system is in the host's own store");
      assert.equal(d.copy?.from, 'cache');
      assert.equal(d.copy?.missing, 'pushed');
      assert.match(d.copy!.reason, /web2 substitutes from cache "main" \(http:\/\/.*\); what it lacked was pushed first with attic/);
      assert.ok(d.copy!.sentBytes < 200_000, `only the copy's protocol crossed from here over ssh: ${d.copy!.sentBytes} B`);
      assert.match(r.stderr, /closure: from the cache: /);
      // The paths came from the cache: pushed once from here, fetched by the host with the pull token.
      assert.equal(cache.attic.log.filter((l) => l.what === 'upload-path').length, pushesBefore + 1, JSON.stringify(cache.attic.log.slice(-6)));
      const nar = cache.attic.log.filter((l) => l.method === 'GET' && l.sub === 'bootstrap-pull' && (l.bytesOut ?? 0) > 2_000_000);
      assert.equal(nar.length, 1, `the host fetched the NAR itself: ${JSON.stringify(cache.attic.log.slice(-6))}`);
      // The journal records what the copy sent from here.
      const journal = readFileSync(join(lab.flakeDir, '.bootstrap/state/web2/deploy-journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stepId: string; status: string; transfer?: { sentBytes: number }; detail?: string });
      const copy = journal.filter((e) => e.stepId === 'copy' && e.status === 'done').pop();
      assert.equal(copy?.transfer?.sentBytes, d.copy!.sentBytes);
      assert.match(copy?.detail ?? '', /^closure from the cache: /);
    } finally {
      cache.configure(false);
    }
  });
});

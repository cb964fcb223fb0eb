/**
 * `bootstrap status` against real sshd targets in network namespaces (health-lab.ts): a fleet with
 * one host of each case, checked in parallel over pinned connections, then single hosts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { netnsSkipReason } from '../helpers/netns.js';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { spawn } from 'node:child_process';
import { createHealthLab, LAB_REVISION, type HealthLab, type HealthHost, type LabCache } from './health-lab.js';
import type { HealthReport } from '../../src/health/report.js';
import { captureCtx } from '../storage/capture.js';
import { createPrompter } from '../../src/ports/prompter.js';
import { loadConfig } from '../../src/config/load.js';
import { parseTarget } from '../../src/ssh/target.js';
import { printInstallSummary } from '../../src/workflow/install/summary.js';
import { INSTALL_HEALTH_EXIT } from '../../src/workflow/install/health.js';
import type { PreparedInstall } from '../../src/workflow/install/prepare.js';
import type { InstallOutcome } from '../../src/workflow/install/run-install.js';

const skip = netnsSkipReason();

describe('bootstrap status (namespace hosts)', { skip: skip ?? false }, () => {
  let lab: HealthLab;
  let up: LabCache;
  let down: LabCache;
  const hosts: Record<string, HealthHost> = {};
  let changedOld = '';
  let changedNew = '';

  before(async () => {
    lab = await createHealthLab();
    try {
      up = await lab.addCache({ private: true });
      down = await lab.addCache();
      const specs = [
        { name: 'healthy' },
        { name: 'failedunit', failedUnits: ['nginx.service'] },
        { name: 'nosecrets', secrets: 'missing' as const },
        { name: 'cachedown', cacheDown: true },
        { name: 'notimer', timer: 'inactive' as const },
        { name: 'oldgen', generation: 'other' as const },
        { name: 'newkey' },
        { name: 'nobackup', timer: 'none' as const },
      ];
      for (const s of specs) {
        // One at a time: the netns lab numbers hosts as they are added.
        const { cacheDown, ...spec } = s as typeof s & { cacheDown?: boolean };
        hosts[s.name] = await lab.addHost({ ...spec, cache: cacheDown ? down : up });
      }
      await lab.addUnreachable('unreachable', up);
      await down.stop();
      changedOld = hosts.newkey!.net.fingerprint;
      await hosts.newkey!.net.restartWithHostKey();
      changedNew = hosts.newkey!.net.fingerprint;
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(async () => {
    await lab?.teardown();
  });

  const status = (...args: string[]) => runCli(['status', '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5', ...args], { env: lab.env, timeoutMs: 90_000 });

  test('a healthy host: every check ok or n/a, exit 0, one screen of text', async () => {
    const r = await status('healthy');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^healthy {2}root@10\.231\.\d+\.\d+ {2}OK/m);
    for (const line of ['running', 'no failed units', 'runs the system bootstrap built (generation 2)', '/ is ext4 on /dev/vda2 as planned (single-ext4)',
      'sops-nix secrets: 2 present (/run/secrets.d/1)', 'agenix secrets: 1 present (generation 1)', "(bootstrap's cache) answers nix-cache-info",
      'trusts main', 'restic-backups-bootstrap.timer armed, next run Wed 2026-12-02 00:00:00 UTC', 'clock synchronized (NTP)', '/var/.* present, mode 0600|/run/sops-nix/key.txt present, mode 0600, owner root']) {
      assert.match(r.stdout, new RegExp(line.replace(/[()]/g, '\\$&')), line);
    }
    assert.ok(r.stdout.split('\n').length <= 30, r.stdout);
  });

  test('the fleet: one of each case in parallel, table and exit 1', async () => {
    const r = await status('--all', '--json', '--parallel', '9');
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; hosts: HealthReport[] };
    assert.equal(out.ok, false);
    const by = Object.fromEntries(out.hosts.map((h) => [h.host, h]));
    assert.deepEqual(Object.keys(by).sort(), ['cachedown', 'failedunit', 'healthy', 'newkey', 'nobackup', 'nosecrets', 'notimer', 'oldgen', 'unreachable']);
    const failing = (h: string) => by[h]!.checks.filter((c) => c.status === 'fail').map((c) => c.id);
    const warning = (h: string) => by[h]!.checks.filter((c) => c.status === 'warn').map((c) => c.id);
    assert.equal(by.healthy!.status, 'ok');
    // status --json carries needsReboot and the running flake revision.
    assert.equal(by.healthy!.needsReboot, false);
    assert.equal(by.healthy!.revision, LAB_REVISION);
    assert.deepEqual(failing('failedunit'), ['system.failed-units']);
    assert.deepEqual(failing('nosecrets'), ['secrets.sops']);
    assert.match(by.nosecrets!.checks.find((c) => c.id === 'secrets.sops')!.summary, /1 of 2 missing: \/run\/secrets\/restic-password/);
    assert.deepEqual(failing('cachedown'), ['cache.substituter']);
    assert.match(by.cachedown!.checks.find((c) => c.id === 'cache.substituter')!.summary, /does not answer: connection refused/);
    assert.deepEqual(failing('notimer'), ['backups.timer']);
    assert.equal(by.oldgen!.status, 'warn');
    assert.deepEqual(warning('oldgen'), ['system.generation']);
    assert.equal(by.nobackup!.status, 'ok');
    assert.deepEqual(by.nobackup!.checks.filter((c) => c.group === 'backups').map((c) => [c.status, c.summary]), [['n/a', 'no backups configured']]);
    assert.equal(by.newkey!.error?.code, 'host-key-changed');
    assert.ok(by.newkey!.error!.message.includes(changedOld) && by.newkey!.error!.message.includes(changedNew), by.newkey!.error!.message);
    assert.equal(by.unreachable!.status, 'fail');
    assert.match(by.unreachable!.error!.message, /refused/i);
    // The facts travel with --json; the private cache was asked with the host's netrc.
    assert.equal(by.healthy!.facts?.cache.probes?.[0]?.http, 200);
    assert.ok(up.hits >= 6);

    const text = await status('--all');
    assert.equal(text.code, 1);
    const table = text.stdout.slice(text.stdout.indexOf('HOST '));
    assert.match(table, /^healthy +ok +0\/0 /m);
    assert.match(table, /^failedunit +FAIL +1\/\d +[\d.]+s +system: 1 failed unit: nginx\.service/m);
    assert.match(table, /^oldgen +WARN +0\/1 /m);
    assert.match(table, /^newkey +FAIL +- +[\d.]+s +host key of .* changed/m);
    assert.match(text.stdout, /→ see why: `journalctl -b -u nginx\.service`/);
  });

  test('--strict: a warning fails; --hosts picks hosts; a missing manifest is bad input', async () => {
    assert.equal((await status('oldgen')).code, 0);
    assert.equal((await status('oldgen', '--strict')).code, 1);
    const two = await status('--hosts', 'healthy,nobackup', '--json');
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual((JSON.parse(two.stdout) as { hosts: HealthReport[] }).hosts.map((h) => h.host), ['healthy', 'nobackup']);
    const bad = await status('nosuchhost');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /hosts\/nosuchhost\/bootstrap\.toml does not exist/);
    assert.equal((await runCli(['status', '--flake', lab.flakeDir, 'a', '--all'], { env: lab.env })).code, 2);
  });

  /** The end of an install, in process: the summary collects the report in install context. */
  async function installSummary(host: string): Promise<{ code: number; json: { health: HealthReport; host: string } }> {
    const cap = captureCtx();
    const app = { ...cap, prompts: createPrompter(false), env: { ...process.env, ...lab.env } as NodeJS.ProcessEnv, cwd: lab.flakeDir };
    const p = {
      mode: 'rebuild', flakeDir: lab.flakeDir, loaded: await loadConfig(lab.flakeDir), host, identity: 'copy-target-keys',
      target: parseTarget(hosts[host]!.net.target, { identityFile: lab.clientKey }), ssh: {},
      plan: { profile: { name: 'generic-vps' }, layout: { name: 'single-ext4' }, installDisk: { path: '/dev/vda', byId: '/dev/disk/by-id/virtio-lab', sizeBytes: 40e9 } },
      answers: {}, report: { os: { isInstaller: false } },
    } as unknown as PreparedInstall;
    const outcome = { runId: 'r1', ran: ['verify'], skipped: [], logPath: '/dev/null', transfer: { phases: {} } } as unknown as InstallOutcome;
    const code = await printInstallSummary(app, p, outcome, true);
    return { code, json: JSON.parse(cap.text().slice(0, cap.text().lastIndexOf('}') + 1)) as { health: HealthReport; host: string } };
  }

  test('after an install: the report is in the summary; a host not running the built system is exit 3', async () => {
    const good = await installSummary('healthy');
    assert.equal(good.code, 0, JSON.stringify(good.json.health.error ?? good.json.health.checks.filter((c) => c.status === 'fail')));
    assert.equal(good.json.health.status, 'ok');
    const old = await installSummary('oldgen');
    assert.equal(old.code, INSTALL_HEALTH_EXIT);
    assert.equal(old.json.health.checks.find((c) => c.id === 'system.generation')?.status, 'fail');
  });

  test('--watch: a round every interval, one JSON line each, until Ctrl-C (exit 130)', async () => {
    const child = spawn(process.execPath, ['--import', `${REPO_ROOT}node_modules/tsx/dist/loader.mjs`, `${REPO_ROOT}src/bin.ts`, 'status', 'healthy', 'nobackup',
      '--flake', lab.flakeDir, '-i', lab.clientKey, '--json', '--watch', '0.5'], { env: { ...process.env, ...lab.env, NO_COLOR: '1', CI: 'true' } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const rounds: Array<{ round: number; ok: boolean; hosts: HealthReport[] }> = [];
    const code = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const lines = out.split('\n');
        out = lines.pop()!;
        for (const l of lines) if (l.trim()) rounds.push(JSON.parse(l) as (typeof rounds)[number]);
        if (rounds.length === 2) child.kill('SIGINT');
      });
      child.once('close', (c) => { clearTimeout(killer); resolve(c); });
    });
    assert.equal(code, 130);
    assert.deepEqual(rounds.map((r) => [r.round, r.ok, r.hosts.length]), [[1, true, 2], [2, true, 2]]);
  });
});

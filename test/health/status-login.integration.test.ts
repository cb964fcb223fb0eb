/**
 * Issue 18/19: `bootstrap status` of hosts whose manifest names a [login] user (root may not log in):
 * the report is collected as that user, as root through `sudo -n` when it may, else as the user,
 * whose report marks what it could not read "not checked (needs root)" and never fails on it.
 * Real sshd and sudo in network namespaces (health-lab.ts); a private cache whose netrc only root reads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { existsSync } from 'node:fs';
import { netnsSkipReason } from '../helpers/netns.js';
import { runCli } from '../helpers/cli.js';
import { createHealthLab, type HealthLab, type LabCache } from './health-lab.js';
import type { HealthReport } from '../../src/health/report.js';

const skip = netnsSkipReason() ?? (existsSync('/etc/sudoers') ? undefined : 'needs sudo (apt-get install sudo)');

describe('bootstrap status as a non-root login (namespace hosts)', { skip: skip ?? false }, () => {
  let lab: HealthLab;
  let cache: LabCache;

  before(async () => {
    lab = await createHealthLab();
    try {
      cache = await lab.addCache({ private: true });
      await lab.addHost({ name: 'withsudo', cache, login: { user: 'admin', sudo: true } });
      await lab.addHost({ name: 'nosudo', cache, login: { user: 'admin', sudo: false } });
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(async () => {
    await lab?.teardown();
  });

  const status = (...args: string[]) => runCli(['status', '--flake', lab.flakeDir, '-i', lab.clientKey, '--timeout', '5', '--json', ...args], { env: lab.env, timeoutMs: 90_000 });
  const byId = (r: HealthReport, id: string) => r.checks.filter((c) => c.id === id);

  test('an admin with sudo -n: checked as root, the private cache answers with the root-only netrc, all ok', async () => {
    const r = await status('withsudo');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const h = (JSON.parse(r.stdout) as { hosts: HealthReport[] }).hosts[0]!;
    assert.match(h.target, /^admin@10\.231\./, 'connected as the [login] user, not root');
    assert.equal(h.status, 'ok', JSON.stringify(h.checks.filter((c) => c.status !== 'ok' && c.status !== 'n/a')));
    assert.deepEqual(byId(h, 'identity.login').map((c) => [c.status, c.summary]), [['ok', 'logged in as admin, checked as root through sudo -n']]);
    assert.deepEqual(h.facts?.access, { uid: 0, user: 'root', sudoUser: 'admin' });
    assert.equal(byId(h, 'cache.substituter')[0]?.status, 'ok');
    assert.equal(byId(h, 'secrets.key-file')[0]?.status, 'ok');
  });

  test('an admin without sudo: what needs root is "not checked (needs root)" and a warning, never a fail', async () => {
    const r = await status('nosudo');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const h = (JSON.parse(r.stdout) as { hosts: HealthReport[] }).hosts[0]!;
    assert.match(h.target, /^admin@/);
    assert.deepEqual(h.checks.filter((c) => c.status === 'fail'), [], 'no false failure');
    assert.equal(h.status, 'warn');
    assert.equal(h.facts?.access?.uid, 1500);
    // The private cache refuses a request without the netrc (HTTP 401): not the host's fault.
    const cacheCheck = byId(h, 'cache.substituter')[0]!;
    assert.equal(cacheCheck.status, 'warn');
    assert.match(cacheCheck.summary, /not checked \(needs root\): HTTP 401 without \/run\/secrets\/attic-netrc, which only root may read/);
    assert.match(cacheCheck.hint ?? '', /let admin run sudo without a password/);
    // The age key sits in /run/sops-nix (0700): hidden from admin, not missing.
    assert.match(byId(h, 'secrets.key-file')[0]!.summary, /\/run\/sops-nix\/key\.txt: not checked \(needs root\)/);
    const login = byId(h, 'identity.login')[0]!;
    assert.equal(login.status, 'warn');
    assert.match(login.summary, /^logged in as admin without root \(sudo -n refused\): 2 checks not checked \(needs root\): secrets\.key-file, cache\.substituter$/);
    // What admin can read is still checked.
    assert.equal(byId(h, 'secrets.sops')[0]?.status, 'ok');
    assert.equal(byId(h, 'system.state')[0]?.status, 'ok');
    // --strict counts the warning.
    assert.equal((await status('nosudo', '--strict')).code, 1);
  });
});

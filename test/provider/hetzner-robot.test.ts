/**
 * The Hetzner Robot backend against a local HTTPS fake of the documented web service: Basic auth,
 * form bodies, key deposit by fingerprint, rescue activation, hardware reset, and the failure shapes
 * (401 never retried: Robot blocks the IP; 403 RATE_LIMIT_EXCEEDED waited out, bounded; 404; 409; 5xx).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { BootstrapError } from '../../src/errors.js';
import { HetznerRobotProvider } from '../../src/provider/hetzner-robot.js';
import { parseOperatorKey } from '../../src/provider/ssh-key.js';
import { redact } from '../../src/redact.js';
import { robotServer, startHetznerRobotFake, type HetznerRobotFake } from './hetzner-robot-fake.js';

const keyDir = mkdtempSync(join(tmpdir(), 'nb-hr-key-'));
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id')]);
const PUB = readFileSync(join(keyDir, 'id.pub'), 'utf8');
const KEY = parseOperatorKey(PUB, 'id.pub');

describe('Hetzner Robot backend (local HTTPS fake)', () => {
  let fake: HetznerRobotFake;
  let waits: number[];
  let api: HetznerRobotProvider;
  const clock = () => { let now = 0; return { now: () => new Date(now), sleep: async (ms: number) => { waits.push(ms); now += ms; } }; };
  const make = (password = fake.password) => new HetznerRobotProvider({ user: fake.user, password, clock: clock(), baseUrl: fake.url, ca: fake.cert.cert });
  const calls = () => fake.requests.map((r) => `${r.method} ${r.path}`);
  before(async () => { fake = await startHetznerRobotFake(); });
  after(async () => { await fake.close(); rmSync(keyDir, { recursive: true, force: true }); });
  beforeEach(() => {
    fake.reset();
    fake.servers.splice(0, fake.servers.length, robotServer(321, 'db1', '198.51.100.9'), robotServer(322, 'db2', '198.51.100.10', ['power', 'man']));
    fake.keys.length = 0;
    waits = [];
    api = make();
  });

  test('finds a server by number, name or address with Basic auth', async () => {
    assert.deepEqual(await api.findServer('321'), { id: '321', name: 'db1', status: 'ready', rescueEnabled: false, ipv4: '198.51.100.9', ipv6: '2a01:4f8:111:4221::' });
    const r = fake.requests[0]!;
    assert.equal(r.path, '/server/321');
    assert.equal(r.headers.authorization, `Basic ${Buffer.from(`${fake.user}:${fake.password}`).toString('base64')}`);
    assert.equal((await api.findServer('db2')).id, '322');
    assert.equal((await api.findServer('198.51.100.9')).id, '321');
    assert.deepEqual(calls().slice(1), ['GET /server', 'GET /server']);
    await assert.rejects(api.findServer('nope'), (e: BootstrapError) => e.code === 'provider-server-not-found');
    fake.servers.length = 0;
    await assert.rejects(api.findServer('db1'), (e: BootstrapError) => e.code === 'provider-server-not-found', 'GET /server 404 NOT_FOUND is an empty account');
  });

  test('rescue: deposits the key once (form body), activates linux with its fingerprint, resets hw (only hw); bootFromDisk deletes a leftover activation', async () => {
    const s = await api.findServer('321');
    fake.reset();
    const grant = await api.enableRescue(s, PUB);
    assert.deepEqual(calls(), ['GET /key', 'POST /key', 'GET /boot/321', 'POST /boot/321/rescue']);
    assert.equal(fake.requests[1]!.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual([...fake.requests[1]!.form], [['name', `nixos-bootstrap ${KEY.md5.replace(/:/g, '').slice(0, 12)}`], ['data', KEY.line]]);
    assert.equal(fake.requests[3]!.body, `os=linux&authorized_key%5B%5D=${encodeURIComponent(KEY.md5)}`);
    assert.equal(grant.keyAuthorized, true);
    assert.equal(redact(`pw ${grant.rootPassword}`), 'pw [REDACTED]');
    fake.reset();
    await api.enableRescue(s, PUB);
    assert.deepEqual(calls(), ['GET /key', 'GET /boot/321', 'DELETE /boot/321/rescue', 'POST /boot/321/rescue'], 'the key is deposited once; the armed rescue is deleted, then armed again');

    fake.reset();
    assert.match(await api.bootFromDisk(s), /still active: deleted/);
    assert.deepEqual(calls(), ['GET /boot/321/rescue', 'DELETE /boot/321/rescue']);
    await api.enableRescue(s, PUB);
    fake.reset();
    await api.reset(s);
    assert.deepEqual(calls(), ['GET /reset/321', 'POST /reset/321']);
    assert.equal(fake.requests[1]!.body, 'type=hw');
    assert.equal(fake.servers[0]!.rescue, false, 'the boot used the activation');
    fake.reset();
    assert.match(await api.bootFromDisk(s), /used by the boot/);
    assert.deepEqual(calls(), ['GET /boot/321/rescue']);

    const s2 = await api.findServer('322');
    await assert.rejects(api.reset(s2), (e: BootstrapError) => e.code === 'provider-no-reset' && /only power, man/.test(e.message) && /--from rescue-wait/.test(e.hint ?? ''));
    assert.deepEqual(fake.servers[1]!.resets, [], 'no power-button press: it would only shut a hung machine down');
  });

  test('re-arming: an armed rescue or an installimage makes Robot answer 409 BOOT_ALREADY_ENABLED; the active configurations are deleted first, then rescue is armed', async () => {
    const s = await api.findServer('321');
    fake.servers[0]!.rescue = true; // armed by an earlier run whose reset never happened
    fake.reset();
    assert.deepEqual((await api.enableRescue(s, PUB)).replaced, ['rescue']);
    assert.deepEqual(calls(), ['GET /key', 'POST /key', 'GET /boot/321', 'DELETE /boot/321/rescue', 'POST /boot/321/rescue']);
    assert.equal(fake.servers[0]!.rescue, true);
    assert.deepEqual(fake.servers[0]!.rescueKeys, [KEY.md5], 'armed with our key, not the earlier activation\'s');

    fake.servers[0]!.rescue = false;
    fake.servers[0]!.linuxInstall = true;
    fake.reset();
    assert.deepEqual((await api.enableRescue(s, PUB)).replaced, ['linux'], 'named, so the user learns the installimage is gone');
    assert.deepEqual(calls(), ['GET /key', 'GET /boot/321', 'DELETE /boot/321/linux', 'POST /boot/321/rescue'], 'an armed installimage is another boot configuration: deleted too');
    assert.equal(fake.servers[0]!.linuxInstall, false);

    // Armed again between our read and our POST (someone in Robot): its own error, not "run again" into the same 409.
    fake.servers[0]!.rescue = false;
    fake.reset();
    fake.inject({ method: 'POST', path: /^\/boot\/321\/rescue$/, status: 409, body: { error: { status: 409, code: 'BOOT_ALREADY_ENABLED', message: 'A boot configuration is already active' } } });
    await assert.rejects(api.enableRescue(s, PUB), (e: BootstrapError) => e.code === 'provider-boot-active' && /BOOT_ALREADY_ENABLED/.test(e.message) && /Robot/.test(e.hint ?? ''));
  });

  test('401 is not retried (Robot blocks the IP after 3 failures) and says so', async () => {
    await assert.rejects(make('wrong-password-xxxxxxxxxxxxxx').findServer('321'), (e: BootstrapError) =>
      e.code === 'provider-unauthorized' && /HTTP 401: UNAUTHORIZED/.test(e.message) && /blocks this IP for 10 minutes/.test(e.hint ?? ''));
    assert.equal(fake.requests.length, 1);
    const c = await make('wrong-password-yyyyyyyyyyyyyy').checkCredentials();
    assert.equal(c.ok, false);
    assert.equal(fake.requests.length, 2);
  });

  test('403 RATE_LIMIT_EXCEEDED waits its interval (capped), bounded; 404, 409 and 5xx map to their errors', async () => {
    fake.inject({ method: 'GET', status: 403, body: { error: { status: 403, code: 'RATE_LIMIT_EXCEEDED', max_request: 200, interval: 5, message: 'rate limit exceeded' } } });
    await api.findServer('321');
    assert.deepEqual(waits, [5000]);
    waits = [];
    fake.reset();
    // Robot's windows are per hour (200 GET /server, 500 boot …): a minute's wait only burns the next window's requests.
    fake.inject({ method: 'GET', status: 403, body: { error: { status: 403, code: 'RATE_LIMIT_EXCEEDED', max_request: 200, interval: 3600, message: 'rate limit exceeded' } }, times: 9 });
    await assert.rejects(api.findServer('321'), (e: BootstrapError) =>
      e.code === 'provider-rate-limited' && /200 requests per 1 h/.test(e.hint ?? '') && /by 1970-01-01 01:00 UTC at the latest/.test(e.hint ?? '') && /--resume/.test(e.hint ?? ''));
    assert.equal(fake.requests.length, 1, 'not asked again within the hour');
    assert.deepEqual(waits, [], 'no wait: the answer says when to retry');
    fake.reset();
    await assert.rejects(api.findServer('999'), (e: BootstrapError) => e.code === 'provider-not-found' && /SERVER_NOT_FOUND/.test(e.message));
    const s = await api.findServer('321');
    fake.inject({ method: 'POST', path: /^\/reset/, status: 409, body: { error: { status: 409, code: 'RESET_MANUAL_ACTIVE', message: 'There is already a running manual reset' } } });
    await assert.rejects(api.reset(s), (e: BootstrapError) => e.code === 'provider-locked' && /RESET_MANUAL_ACTIVE/.test(e.message));
    fake.reset();
    fake.inject({ method: 'POST', path: /^\/boot/, status: 500, body: { error: { status: 500, code: 'INTERNAL_ERROR', message: 'boom' } } });
    await assert.rejects(api.enableRescue(s, PUB), (e: BootstrapError) => e.code === 'provider-error');
    assert.equal(calls().filter((x) => x === 'POST /boot/321/rescue').length, 1, 'a failed POST is not repeated');
    fake.inject({ method: 'GET', path: /^\/server/, status: 503, body: { error: { status: 503, code: 'MAINTENANCE', message: 'maintenance' } } });
    assert.equal((await api.findServer('321')).id, '321', 'a read is retried after a 503');
  });
});

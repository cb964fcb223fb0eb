/**
 * The OVHcloud backend against a local HTTPS fake that checks every signature the documented way
 * ("$1$" + SHA1_HEX(AS+"+"+CK+"+"+METHOD+"+"+URL+"+"+BODY+"+"+TSTAMP)) with a clock taken from
 * /auth/time: dedicated (rescue netboot + our key, reboot task, back to the disk) and VPS (netboot
 * mode; the rescue password is mailed), the credential check naming missing rights, and failures.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { BootstrapError } from '../../src/errors.js';
import { buildOvhSignature, mapOvhError, OvhProvider, pickRescueBoot, ruleCovers } from '../../src/provider/ovh.js';
import { OVH_BOOTS, OVH_DISK_BOOT, OVH_LEGACY_RESCUE_BOOT, OVH_RESCUE_BOOT, OVH_WINRESCUE_BOOT, startOvhFake, type OvhFake } from './ovh-fake.js';

const PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFqk1yVv1o5rtdQmzX0E0a5y7vQ1r2Y7gQxwB2pZt0cE operator@laptop';

test('buildOvhSignature is the documented SHA1 over AS+CK+METHOD+URL+BODY+TSTAMP', () => {
  const sig = buildOvhSignature({ applicationSecret: 'AS', consumerKey: 'CK', method: 'PUT', url: 'https://eu.api.ovh.com/1.0/vps/x', body: '{"netbootMode":"rescue"}', timestamp: 1700000000 });
  assert.equal(sig, '$1$' + createHash('sha1').update('AS+CK+PUT+https://eu.api.ovh.com/1.0/vps/x+{"netbootMode":"rescue"}+1700000000').digest('hex'));
  assert.ok(ruleCovers({ method: 'GET', path: '/*' }, { method: 'GET', path: '/dedicated/server/*' }));
  assert.ok(ruleCovers({ method: 'PUT', path: '/dedicated/server/*' }, { method: 'PUT', path: '/dedicated/server/*' }));
  assert.ok(!ruleCovers({ method: 'PUT', path: '/vps/*' }, { method: 'PUT', path: '/dedicated/server/*' }));
  assert.ok(!ruleCovers({ method: 'GET', path: '/dedicated/server/*' }, { method: 'PUT', path: '/dedicated/server/*' }));
});

test('pickRescueBoot takes the customer rescue by its kernel, whatever the order; never WinRescue or a -pro image', () => {
  const win = { bootId: 1157, bootType: 'rescue', kernel: 'WinRescue', description: 'Windows rescue system (WinPE)' };
  const pro = { bootId: 1122, bootType: 'rescue', kernel: 'rescue64-pro', description: 'Rescue 64 bits' };
  const customer = { bootId: 1156, bootType: 'rescue', kernel: 'rescue-customer', description: 'Customer rescue system (Linux)' };
  assert.equal(pickRescueBoot([win, pro, customer]), 1156);
  assert.equal(pickRescueBoot([customer, win]), 1156);
  assert.equal(pickRescueBoot([win, pro]), undefined, 'no customer rescue: no guess');
  assert.equal(pickRescueBoot([]), undefined);
  // A customer rescue announced for removal is taken only when it is the only one.
  const retiring = { bootId: 46371, bootType: 'rescue', kernel: 'rescue-customer', description: 'Customer rescue system (Debian-10-based)[REMOVAL ON 2025-06-23]' };
  const current = { bootId: 2001, bootType: 'rescue', kernel: 'rescue12-customer', description: 'Customer rescue system (Debian 12)' };
  assert.equal(pickRescueBoot([retiring, win, current]), 2001);
  assert.equal(pickRescueBoot([win, retiring]), 46371);
});

test('mapOvhError: INVALID_SIGNATURE names a changed body too; 460 is an expired service', () => {
  const res = (status: number, body: unknown) => ({ status, headers: {}, body, text: JSON.stringify(body) });
  const sig = mapOvhError(res(400, { errorCode: 'INVALID_SIGNATURE', httpCode: '400 Bad Request', message: 'Invalid signature' }), 'setting the rescue netboot') as BootstrapError;
  assert.equal(sig.code, 'provider-unauthorized');
  assert.match(sig.hint ?? '', /application-secret/);
  assert.match(sig.hint ?? '', /body was not the one signed/);
  const expired = mapOvhError(res(460, { message: 'This service is expired' }), 'reading dedicated server ns1') as BootstrapError;
  assert.equal(expired.code, 'provider-expired');
  assert.match(expired.message, /HTTP 460/);
  assert.match(expired.hint ?? '', /renew it/);
});

describe('OVHcloud backend (local HTTPS fake, signatures checked)', () => {
  let fake: OvhFake;
  let waits: number[];
  let api: OvhProvider;
  const make = (o: { as?: string; ck?: string } = {}) => {
    let now = Date.now();
    return new OvhProvider({ applicationKey: fake.ak, applicationSecret: o.as ?? fake.as, consumerKey: o.ck ?? fake.ck, clock: { now: () => new Date(now), sleep: async (ms) => { waits.push(ms); now += ms; } }, baseUrl: fake.url, ca: fake.cert.cert, pollMs: 2000 });
  };
  const calls = () => fake.requests.map((r) => `${r.method} ${r.path}`);
  before(async () => { fake = await startOvhFake(); });
  after(async () => { await fake.close(); });
  beforeEach(() => {
    fake.reset();
    fake.dedicated.splice(0, fake.dedicated.length, { name: 'ns3001234.ip-203-0-113.eu', ip: '203.0.113.20', bootId: OVH_DISK_BOOT, rescueSshKey: null, reboots: 0 });
    fake.vps.splice(0, fake.vps.length, { name: 'vps-1a2b3c4d.vps.ovh.net', netbootMode: 'local', reboots: 0 });
    fake.boots = OVH_BOOTS.map((b) => ({ ...b }));
    fake.rules = [{ method: 'GET', path: '/*' }, { method: 'PUT', path: '/dedicated/server/*' }, { method: 'POST', path: '/dedicated/server/*' }, { method: 'PUT', path: '/vps/*' }, { method: 'POST', path: '/vps/*' }];
    fake.pollsUntilDone = 2;
    waits = [];
    api = make();
  });

  test('dedicated: /auth/time once, signed calls, rescue boot + our key, reboot task polled, then back to the disk', async () => {
    const s = await api.findServer('ns3001234.ip-203-0-113.eu');
    assert.deepEqual(s, { id: 'ns3001234.ip-203-0-113.eu', name: 'ns3001234.ip-203-0-113.eu', status: 'ok', rescueEnabled: false, ipv4: '203.0.113.20' });
    await api.enableRescue(s, PUB);
    await api.reset(s);
    assert.equal(fake.dedicated[0]!.bootId, OVH_RESCUE_BOOT);
    assert.equal(fake.dedicated[0]!.rescueSshKey, PUB.split(' ').slice(0, 2).join(' '));
    assert.match(await api.bootFromDisk(s), /hard disk \(boot 1\)/);
    assert.equal(fake.dedicated[0]!.bootId, OVH_DISK_BOOT);
    const sn = '/dedicated/server/ns3001234.ip-203-0-113.eu';
    assert.deepEqual(calls(), [
      'GET /auth/time', `GET ${sn}`, `GET ${sn}/boot?bootType=rescue`, `GET ${sn}/boot/${OVH_WINRESCUE_BOOT}`, `GET ${sn}/boot/${OVH_LEGACY_RESCUE_BOOT}`, `GET ${sn}/boot/${OVH_RESCUE_BOOT}`,
      `PUT ${sn}`, `POST ${sn}/reboot`, `GET ${sn}/task/5000`, `GET ${sn}/task/5000`,
      `GET ${sn}/boot?bootType=harddisk`, `PUT ${sn}`,
    ].map((c) => c.replace(/task\/5000/, `task/${fake.requests.find((r) => r.path.includes('/task/'))!.path.split('/').pop()}`)));
    assert.equal(fake.requests[0]!.headers['x-ovh-signature'], undefined, '/auth/time is not signed');
    for (const r of fake.requests.slice(1)) {
      assert.equal(r.signatureOk, true, `${r.method} ${r.path} signed`);
      assert.equal(r.headers['x-ovh-application'], fake.ak);
      assert.equal(r.headers['x-ovh-consumer'], fake.ck);
      assert.ok(Math.abs(Number(r.headers['x-ovh-timestamp']) - (Math.floor(Date.now() / 1000) + fake.skewSeconds)) < 60, 'the timestamp follows the API clock, not ours');
    }
    assert.deepEqual(JSON.parse(fake.requests[6]!.body), { bootId: OVH_RESCUE_BOOT, rescueSshKey: PUB.split(' ').slice(0, 2).join(' ') });
    assert.equal(fake.requests[6]!.headers['content-type'], 'application/json');
    assert.deepEqual(waits, [2000]);
  });

  test('VPS: netbootMode rescue (no key: the password is mailed), reboot task, netbootMode local', async () => {
    const s = await api.findServer('vps-1a2b3c4d.vps.ovh.net');
    assert.equal(s.rescueEnabled, false);
    const grant = await api.enableRescue(s, PUB);
    assert.equal(grant.keyAuthorized, false);
    await api.reset(s);
    assert.equal(fake.vps[0]!.reboots, 1);
    await api.bootFromDisk(s);
    assert.equal(fake.vps[0]!.netbootMode, 'local');
    const v = '/vps/vps-1a2b3c4d.vps.ovh.net';
    assert.deepEqual(calls().slice(1).map((c) => c.replace(/tasks\/\d+/, 'tasks/N')), [
      'GET /dedicated/server/vps-1a2b3c4d.vps.ovh.net', `GET ${v}`, `PUT ${v}`, `POST ${v}/reboot`, `GET ${v}/tasks/N`, `GET ${v}/tasks/N`, `PUT ${v}`,
    ]);
    assert.deepEqual(JSON.parse(fake.requests[3]!.body), { netbootMode: 'rescue' });
    assert.deepEqual(JSON.parse(fake.requests[7]!.body), { netbootMode: 'local' });
    assert.ok(fake.requests.slice(1).every((r) => r.signatureOk));
  });

  test('dedicated: a server offering no customer rescue (WinRescue and a retired image only) is refused before anything is set', async () => {
    fake.boots = fake.boots.filter((b) => b.kernel !== 'rescue-customer');
    const s = await api.findServer('ns3001234.ip-203-0-113.eu');
    await assert.rejects(api.enableRescue(s, PUB), (e: BootstrapError) =>
      e.code === 'provider-no-boot' && /WinRescue \(1157\), rescue64-pro \(1122\)/.test(e.message) && /rescue-customer/.test(e.hint ?? ''));
    assert.ok(!calls().some((c) => c.startsWith('PUT')), 'the netboot is left alone');
    assert.equal(fake.dedicated[0]!.bootId, OVH_DISK_BOOT);
  });

  test('460: an expired service says so (not the generic failure), and is not retried', async () => {
    fake.inject({ method: 'GET', path: /^\/dedicated\/server\/ns3001234/, status: 460, body: { message: 'This service is expired' } });
    await assert.rejects(api.findServer('ns3001234.ip-203-0-113.eu'), (e: BootstrapError) => e.code === 'provider-expired' && /renew/.test(e.hint ?? ''));
    assert.deepEqual(calls(), ['GET /auth/time', 'GET /dedicated/server/ns3001234.ip-203-0-113.eu']);
  });

  test('a wrong secret is an invalid signature; a wrong consumer key is refused; neither is retried', async () => {
    await assert.rejects(make({ as: 'not-the-secret-0000000000000000' }).findServer('ns3001234.ip-203-0-113.eu'), (e: BootstrapError) =>
      e.code === 'provider-unauthorized' && /HTTP 400: INVALID_SIGNATURE: Invalid signature/.test(e.message) && /application-secret/.test(e.hint ?? ''));
    fake.reset();
    await assert.rejects(make({ ck: 'not-the-consumer-key-00000000000' }).findServer('ns3001234.ip-203-0-113.eu'), (e: BootstrapError) =>
      e.code === 'provider-unauthorized' && /INVALID_CREDENTIAL/.test(e.message));
    assert.deepEqual(calls(), ['GET /auth/time', 'GET /dedicated/server/ns3001234.ip-203-0-113.eu']);
    fake.reset();
    fake.ckValidated = false;
    try {
      await assert.rejects(make().findServer('ns3001234.ip-203-0-113.eu'), (e: BootstrapError) =>
        e.code === 'provider-unauthorized' && /HTTP 403: NOT_CREDENTIAL/.test(e.message) && /not validated/.test(e.hint ?? ''));
      assert.equal(fake.requests.length, 2, 'not retried');
    } finally {
      fake.ckValidated = true;
    }
  });

  test('403 NOT_GRANTED_CALL, 404, 409, 429 with Retry-After (bounded), 5xx on a read retried, a failed task', async () => {
    fake.rules = [{ method: 'GET', path: '/*' }];
    const s = await api.findServer('ns3001234.ip-203-0-113.eu');
    await assert.rejects(api.enableRescue(s, PUB), (e: BootstrapError) => e.code === 'provider-forbidden' && /NOT_GRANTED_CALL: This call has not been granted/.test(e.message) && /doctor/.test(e.hint ?? ''));
    await assert.rejects(api.findServer('ns9.nowhere.eu'), (e: BootstrapError) => e.code === 'provider-not-found' && /Client::NotFound/.test(e.message));
    fake.rules = [{ method: 'GET', path: '/*' }, { method: 'POST', path: '/dedicated/server/*' }];
    fake.inject({ method: 'POST', path: /reboot$/, status: 409, body: { class: 'Client::Conflict', message: 'A reboot task is already running' } });
    await assert.rejects(api.reset(s), (e: BootstrapError) => e.code === 'provider-locked');
    fake.inject({ method: 'GET', path: /^\/dedicated/, status: 429, body: { class: 'Client::TooManyRequests', message: 'Too many requests' }, headers: { 'retry-after': '3' } });
    waits = [];
    await api.findServer('ns3001234.ip-203-0-113.eu');
    assert.deepEqual(waits, [3000]);
    fake.inject({ method: 'GET', path: /^\/dedicated/, status: 429, body: { class: 'Client::TooManyRequests', message: 'Too many requests' }, headers: { 'retry-after': '3' }, times: 10 });
    fake.requests.length = 0;
    await assert.rejects(api.findServer('ns3001234.ip-203-0-113.eu'), (e: BootstrapError) => e.code === 'provider-rate-limited');
    assert.equal(fake.requests.length, 4);
    fake.reset();
    fake.inject({ method: 'GET', path: /^\/dedicated/, status: 502, body: { class: 'Server::BadGateway', message: 'bad gateway' } });
    await api.findServer('ns3001234.ip-203-0-113.eu');
    assert.equal(fake.requests.length, 2);
    fake.inject({ method: 'GET', path: /\/task\//, status: 200, body: { taskId: 1, function: 'hardReboot', status: 'ovhError', comment: 'power supply failure' }, times: 1 });
    await assert.rejects(api.reset(s), (e: BootstrapError) => e.code === 'provider-action-failed' && /"ovhError": power supply failure/.test(e.message));
  });

  test('a consumer key granted only /vps/* still finds its VPS; a dedicated server then fails with the refusal, not "not found"', async () => {
    fake.rules = [{ method: 'GET', path: '/vps/*' }, { method: 'PUT', path: '/vps/*' }, { method: 'POST', path: '/vps/*' }];
    assert.equal((await api.findServer('vps-1a2b3c4d.vps.ovh.net')).name, 'vps-1a2b3c4d.vps.ovh.net');
    await assert.rejects(api.findServer('ns3001234.ip-203-0-113.eu'), (e: BootstrapError) => e.code === 'provider-forbidden' && /NOT_GRANTED_CALL/.test(e.message));
  });

  test('checkCredentials reads /auth/currentCredential and names the missing rights', async () => {
    const ok = await api.checkCredentials();
    assert.equal(ok.ok, true, ok.detail);
    assert.deepEqual(calls(), ['GET /auth/time', 'GET /auth/currentCredential']);
    fake.rules = [{ method: 'GET', path: '/*' }, { method: 'PUT', path: '/vps/*' }, { method: 'POST', path: '/vps/*' }];
    const vpsOnly = await make().checkCredentials();
    assert.equal(vpsOnly.ok, true);
    assert.match(vpsOnly.detail, /dedicated servers would need PUT \/dedicated\/server\/\*, POST \/dedicated\/server\/\*/);
    fake.rules = [{ method: 'GET', path: '/*' }];
    const none = await make().checkCredentials();
    assert.equal(none.ok, false);
    assert.match(none.detail, /dedicated servers need PUT \/dedicated\/server\/\*, POST \/dedicated\/server\/\*; VPS need PUT \/vps\/\*, POST \/vps\/\*/);
    assert.ok(fake.requests.every((r) => r.method === 'GET'));
  });
});

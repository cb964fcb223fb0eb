/**
 * The Hetzner Cloud backend against a local HTTPS fake of the documented API: exact requests
 * (method, path, auth, body), action polling, and the failure shapes (401, 403, 404, 409/423,
 * 429 with Retry-After, 5xx) with bounded retries.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HetznerCloudProvider } from '../../src/provider/hetzner-cloud.js';
import { parseOperatorKey } from '../../src/provider/ssh-key.js';
import { redact } from '../../src/redact.js';
import type { BootstrapError } from '../../src/errors.js';
import { fakeServer, startHetznerCloudFake, type HetznerCloudFake } from './hetzner-cloud-fake.js';

const keyDir = mkdtempSync(join(tmpdir(), 'nb-hc-key-'));
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator@laptop', '-f', join(keyDir, 'id')]);
const PUB = readFileSync(join(keyDir, 'id.pub'), 'utf8');
const KEY = parseOperatorKey(PUB, 'id.pub');

function clock() {
  const waits: number[] = [];
  let now = Date.parse('2026-11-30T12:00:00Z');
  return { waits, now: () => new Date(now), sleep: async (ms: number) => { waits.push(ms); now += ms; } };
}

describe('Hetzner Cloud backend (local HTTPS fake)', () => {
  let fake: HetznerCloudFake;
  let c: ReturnType<typeof clock>;
  let api: HetznerCloudProvider;
  const make = (token = fake.token) => new HetznerCloudProvider({ token, clock: c, baseUrl: fake.url, ca: fake.cert.cert, pollMs: 500 });
  before(async () => { fake = await startHetznerCloudFake(); });
  after(async () => { await fake.close(); rmSync(keyDir, { recursive: true, force: true }); });
  beforeEach(() => {
    fake.reset();
    fake.servers.splice(0, fake.servers.length, fakeServer(42, 'web1', '203.0.113.7'));
    fake.sshKeys.length = 0;
    fake.pollsUntilDone = 1;
    fake.readOnly = false;
    c = clock();
    api = make();
  });
  const calls = () => fake.requests.map((r) => `${r.method} ${r.path}`);

  test('finds a server by name with the Bearer token; by id; by address through the pages', async () => {
    const s = await api.findServer('web1');
    assert.deepEqual(s, { id: '42', name: 'web1', status: 'running', rescueEnabled: false, ipv4: '203.0.113.7', ipv6: '2001:db8::/64' });
    const r = fake.requests[0]!;
    assert.equal(r.method, 'GET');
    assert.equal(r.path, '/v1/servers?name=web1');
    assert.equal(r.headers.authorization, `Bearer ${fake.token}`);
    assert.equal(r.headers.accept, 'application/json');
    assert.equal(r.body, '');
    assert.equal((await api.findServer('42')).name, 'web1');
    assert.equal(fake.requests[1]!.path, '/v1/servers/42');

    for (let i = 0; i < 60; i++) fake.servers.unshift(fakeServer(100 + i, `other${i}`, `198.51.100.${i}`));
    fake.requests.length = 0;
    assert.equal((await api.findServer('203.0.113.7')).id, '42');
    assert.deepEqual(calls(), ['GET /v1/servers?page=1&per_page=50', 'GET /v1/servers?page=2&per_page=50']);
    await assert.rejects(api.findServer('203.0.113.99'), (e: BootstrapError) => e.code === 'provider-server-not-found');
    await assert.rejects(api.findServer('nope'), (e: BootstrapError) => e.code === 'provider-server-not-found' && /no server named nope/.test(e.message));
  });

  test('enable rescue: registers the operator key once (found by MD5 fingerprint), arms linux64 with it, polls the action', async () => {
    fake.pollsUntilDone = 2;
    const s = await api.findServer('web1');
    fake.requests.length = 0;
    const grant = await api.enableRescue(s, PUB);
    assert.deepEqual(calls(), [
      `GET /v1/ssh_keys?fingerprint=${encodeURIComponent(KEY.md5)}`,
      'POST /v1/ssh_keys',
      'POST /v1/servers/42/actions/enable_rescue',
      `GET /v1/actions/${fake.requests[3]!.path.split('/').pop()}`,
      `GET /v1/actions/${fake.requests[3]!.path.split('/').pop()}`,
    ]);
    const reg = fake.requests[1]!;
    assert.equal(reg.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(reg.body), { name: `nixos-bootstrap ${KEY.md5.replace(/:/g, '').slice(0, 12)}`, public_key: KEY.line, labels: { 'managed-by': 'nixos-bootstrap' } });
    const keyId = fake.sshKeys[0]!.id;
    assert.deepEqual(JSON.parse(fake.requests[2]!.body), { type: 'linux64', ssh_keys: [keyId] });
    assert.equal(fake.servers[0]!.rescue_enabled, true);
    assert.equal(grant.keyAuthorized, true);
    assert.equal(redact(`pw ${grant.rootPassword}`), 'pw [REDACTED]', 'the root password the API returns is redacted everywhere');
    assert.deepEqual(c.waits, [500, 500], 'polled with the pause between polls');

    fake.requests.length = 0;
    await api.enableRescue(s, PUB);
    assert.deepEqual(calls().slice(0, 2), [`GET /v1/ssh_keys?fingerprint=${encodeURIComponent(KEY.md5)}`, 'POST /v1/servers/42/actions/enable_rescue'], 'the key is registered once');
  });

  test('reset resets a running server and powers on one that is off; bootFromDisk disables rescue only when still armed', async () => {
    const s = await api.findServer('web1');
    fake.requests.length = 0;
    await api.reset(s);
    assert.deepEqual(calls().slice(0, 2), ['GET /v1/servers/42', 'POST /v1/servers/42/actions/reset']);
    assert.equal(fake.requests[1]!.body, '');
    fake.servers[0]!.status = 'off';
    fake.requests.length = 0;
    await api.reset(s);
    assert.equal(calls()[1], 'POST /v1/servers/42/actions/poweron');

    fake.requests.length = 0;
    assert.match(await api.bootFromDisk(s), /rescue mode is off/);
    assert.deepEqual(calls(), ['GET /v1/servers/42']);
    fake.servers[0]!.rescue_enabled = true;
    fake.requests.length = 0;
    assert.match(await api.bootFromDisk(s), /disabled/);
    assert.equal(calls()[1], 'POST /v1/servers/42/actions/disable_rescue');
    assert.equal(fake.servers[0]!.rescue_enabled, false);
  });

  test('401, 403 token_readonly, 404: one request each, the error names the cause and the fix', async () => {
    await assert.rejects(make('wrong-token-aaaaaaaaaaaaaaaa').findServer('web1'), (e: BootstrapError) =>
      e.code === 'provider-unauthorized' && /HTTP 401: unauthorized: unable to authenticate/.test(e.message) && /secrets set/.test(e.hint ?? ''));
    assert.equal(fake.requests.length, 1, 'no retry on 401');
    fake.readOnly = true;
    const s = await api.findServer('web1');
    await assert.rejects(api.reset(s), (e: BootstrapError) => e.code === 'provider-forbidden' && /token_readonly/.test(e.message) && /Read & Write/.test(e.hint ?? ''));
    fake.requests.length = 0;
    await assert.rejects(api.findServer('77'), (e: BootstrapError) => e.code === 'provider-not-found' && /HTTP 404: not_found/.test(e.message));
    assert.equal(fake.requests.length, 1);
  });

  test('409 conflict and 423 locked are retried with backoff, bounded; uniqueness_error and protected are not', async () => {
    const s = await api.findServer('web1');
    fake.inject({ method: 'POST', path: /reset$/, status: 409, body: { error: { code: 'conflict', message: 'resource has changed during the request' } } });
    fake.requests.length = 0;
    await api.reset(s);
    assert.deepEqual(calls().filter((x) => x.startsWith('POST')), ['POST /v1/servers/42/actions/reset', 'POST /v1/servers/42/actions/reset']);
    assert.equal(c.waits[0], 1000);
    fake.inject({ method: 'POST', path: /reset$/, status: 423, body: { error: { code: 'locked', message: 'server is locked' } }, times: 10 });
    fake.requests.length = 0;
    c.waits.length = 0;
    await assert.rejects(api.reset(s), (e: BootstrapError) => e.code === 'provider-locked' && /locked/.test(e.message) && /--resume/.test(e.hint ?? ''));
    assert.equal(calls().filter((x) => x.startsWith('POST')).length, 4, 'one try and three retries');
    assert.deepEqual(c.waits, [1000, 2000, 4000]);
    // 423 also carries the final code protected (hcloud-go retries only locked): not retried.
    fake.reset(); // the 6 locked answers left over
    fake.inject({ method: 'POST', path: /reset$/, status: 423, body: { error: { code: 'protected', message: 'server is protected' } } });
    c.waits.length = 0;
    await assert.rejects(api.reset(s), (e: BootstrapError) => e.code === 'provider-protected' && /HTTP 423: protected/.test(e.message) && /Protection/.test(e.hint ?? ''));
    assert.equal(calls().filter((x) => x.startsWith('POST')).length, 1, 'protected is final');
    // The status the docs give it (https://docs.hetzner.cloud/#errors: protected, 403): the same error and hint.
    fake.reset();
    fake.inject({ method: 'POST', path: /reset$/, status: 403, body: { error: { code: 'protected', message: 'server is protected', details: {} } } });
    await assert.rejects(api.reset(s), (e: BootstrapError) => e.code === 'provider-protected' && /HTTP 403: protected/.test(e.message) && /Protection/.test(e.hint ?? ''));
    assert.equal(calls().filter((x) => x.startsWith('POST')).length, 1, 'protected is final');
    assert.deepEqual(c.waits, []);
    fake.inject({ method: 'POST', path: /ssh_keys$/, status: 409, body: { error: { code: 'uniqueness_error', message: 'SSH key with the same name already exists' } } });
    fake.requests.length = 0;
    await assert.rejects(api.enableRescue(s, PUB), (e: BootstrapError) => e.code === 'provider-conflict' && /uniqueness_error/.test(e.message));
    assert.deepEqual(calls().map((x) => x.replace(/\?.*$/, '')), ['GET /v1/ssh_keys', 'POST /v1/ssh_keys'], 'not retried, nothing armed');
    assert.deepEqual(c.waits, []);
  });

  test('429 waits Retry-After, else RateLimit-Reset; bounded; then provider-rate-limited', async () => {
    fake.inject({ method: 'GET', status: 429, body: { error: { code: 'rate_limit_exceeded', message: 'limit of 3600 requests per hour reached' } }, headers: { 'retry-after': '7' } });
    await api.findServer('web1');
    assert.deepEqual(c.waits, [7000]);
    assert.equal(fake.requests.length, 2);
    c.waits.length = 0;
    const reset = Math.floor(c.now().getTime() / 1000) + 12;
    fake.inject({ method: 'GET', status: 429, body: { error: { code: 'rate_limit_exceeded', message: 'x' } }, headers: { 'ratelimit-reset': String(reset) } });
    await api.findServer('web1');
    assert.deepEqual(c.waits, [12000]);
    fake.inject({ method: 'GET', status: 429, body: { error: { code: 'rate_limit_exceeded', message: 'x' } }, headers: { 'retry-after': '3600' }, times: 10 });
    fake.requests.length = 0;
    c.waits.length = 0;
    await assert.rejects(api.findServer('web1'), (e: BootstrapError) => e.code === 'provider-rate-limited');
    assert.equal(fake.requests.length, 4);
    assert.deepEqual(c.waits, [60000, 60000, 60000], 'each wait is capped');
  });

  test('5xx: a GET is retried; a POST is not (it may have happened); an action that ends in error fails', async () => {
    fake.inject({ method: 'GET', status: 503, body: { error: { code: 'unavailable', message: 'service unavailable' } } });
    const s = await api.findServer('web1');
    assert.equal(fake.requests.length, 2);
    fake.inject({ method: 'POST', path: /enable_rescue$/, status: 500, body: { error: { code: 'server_error', message: 'internal' } } });
    fake.requests.length = 0;
    await assert.rejects(api.enableRescue(s, PUB), (e: BootstrapError) => e.code === 'provider-error' && /HTTP 500: server_error: internal/.test(e.message));
    assert.equal(calls().filter((x) => x.includes('enable_rescue')).length, 1);
    fake.failNextAction = { code: 'action_failed', message: 'rescue could not be enabled' };
    await assert.rejects(api.enableRescue(s, PUB), (e: BootstrapError) => e.code === 'provider-action-failed' && /action_failed: rescue could not be enabled/.test(e.message));
  });

  test('checkCredentials is one read-only call and says what is wrong', async () => {
    const ok = await api.checkCredentials();
    assert.equal(ok.ok, true);
    assert.deepEqual(calls(), ['GET /v1/servers?per_page=1']);
    const bad = await make('wrong-token-bbbbbbbbbbbbbbbbbb').checkCredentials();
    assert.equal(bad.ok, false);
    assert.match(bad.detail, /401/);
    assert.match(bad.hint ?? '', /API token is wrong or revoked/);
    assert.ok(fake.requests.every((r) => r.method === 'GET'));
  });
});

/**
 * `bootstrap rescue`, `rebuild --via-rescue` and `doctor` with a [provider] host, through the real
 * CLI against the Hetzner Cloud fake (NODE_EXTRA_CA_CERTS trusts its certificate; the base URL is
 * the tests-only BOOTSTRAP_TEST_HCLOUD_URL). No SSH target: these stop before or at the API.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { fakeServer, startHetznerCloudFake, type HetznerCloudFake } from './hetzner-cloud-fake.js';

const MANIFEST = 'version = 1\nhost = "web1"\ntarget = "root@203.0.113.7"\nprofile = "hetzner-cloud-x86"\n\n[layout]\nname = "ext4"\n\n[installDisk]\npath = "/dev/sda"\nsizeBytes = 1000\n';
const PROVIDER = '\n[provider]\nkind = "hetzner-cloud"\nserver = "web1"\ncredentials = "providers/hcloud"\n';

describe('rescue, rebuild --via-rescue and doctor with a [provider] host (CLI, HTTPS fake)', () => {
  let fake: HetznerCloudFake;
  let dir: string;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) => runCli([...args, '--flake', dir], { env, ...(input !== undefined ? { input } : {}) });
  const manifest = (extra: string) => writeFileSync(join(dir, 'hosts/web1/bootstrap.toml'), MANIFEST + extra);

  before(async () => {
    fake = await startHetznerCloudFake({ servers: [fakeServer(42, 'web1', '203.0.113.7')] });
    dir = mkdtempSync(join(tmpdir(), 'nb-rescue-cli-'));
    const identity = join(dir, '.admin-age.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity]).toString().trim();
    writeFileSync(join(dir, 'bootstrap.toml'), `[secrets.local]\nrecipients = ["${recipient}"]\n`);
    writeFileSync(join(dir, 'flake.nix'), '{ outputs = _: { }; }\n');
    mkdirSync(join(dir, 'hosts/web1'), { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    env = { BOOTSTRAP_AGE_IDENTITY: identity, BOOTSTRAP_TEST_HCLOUD_URL: fake.url, NODE_EXTRA_CA_CERTS: fake.cert.certPath };
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no [provider] section: exit 2 naming the section to add', async () => {
    manifest('');
    const r = await cli(['rescue', 'web1', '-i', join(dir, 'id')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /web1's manifest has no \[provider\] section/);
    assert.match(r.stderr, /kind = "hetzner-cloud"/);
  });

  test('an unknown provider kind or a credentials value that is not a store name is a manifest error', async () => {
    manifest(PROVIDER.replace('hetzner-cloud', 'linode'));
    const r = await cli(['rescue', 'web1', '-i', join(dir, 'id')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /provider\.kind/);
    manifest(PROVIDER.replace('"providers/hcloud"', '"hc tok en"'));
    const r2 = await cli(['rescue', 'web1', '-i', join(dir, 'id')]);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /provider\.credentials.*secret store name/);
  });

  test('missing credentials: exit 1 with the `secrets set` command; no API call', async () => {
    manifest(PROVIDER);
    fake.reset();
    const r = await cli(['rescue', 'web1', '-i', join(dir, 'id'), '--host-key', 'SHA256:' + 'A'.repeat(43)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /providers\/hcloud\/token is not in the secret store/);
    assert.match(r.stderr, /bootstrap secrets set providers\/hcloud\/token/);
    assert.equal(fake.requests.length, 0);
  });

  test('--yes without --host-key is refused before any API call; a target not root@…:22 too; --via-rescue with --hosts', async () => {
    manifest(PROVIDER);
    assert.equal((await cli(['secrets', 'set', 'providers/hcloud/token'], `${fake.token}\n`)).code, 0);
    fake.reset();
    const r = await cli(['rescue', 'web1', '--yes', '-i', join(dir, 'id')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Hetzner Cloud does not expose the host key of web1's rescue system/);
    assert.match(r.stderr, /--host-key SHA256:/);
    const r2 = await cli(['rescue', 'web1', '--yes', '-i', join(dir, 'id'), '--target', 'admin@203.0.113.7:2222']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /rescue system answers as root on port 22/);
    const r3 = await cli(['rescue', 'web1', '--yes', '--host-key', 'SHA256:' + 'A'.repeat(43)]);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /pass -i/);
    const r4 = await cli(['rebuild', '--hosts', 'web1,web2', '--via-rescue']);
    assert.equal(r4.code, 2);
    assert.match(r4.stderr, /--via-rescue rescues one host at a time/);
    assert.equal(fake.requests.length, 0);
  });

  test('a wrong token stops the rescue at the first call with the provider\'s words and the fix; nothing is armed', async () => {
    manifest(PROVIDER);
    assert.equal((await cli(['secrets', 'set', 'providers/hcloud/token', '--force'], 'not-the-token-0000000000000000\n')).code, 0);
    fake.reset();
    const r = await cli(['rescue', 'web1', '--yes', '-i', join(dir, 'id'), '--host-key', 'SHA256:' + 'A'.repeat(43)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Hetzner Cloud: finding server web1 failed \(HTTP 401: unauthorized: unable to authenticate\)/);
    assert.match(r.stderr, /API token is wrong or revoked/);
    assert.doesNotMatch(r.stderr + r.stdout, /not-the-token/);
    assert.deepEqual(fake.requests.map((q) => q.path), ['/v1/servers?name=web1']);
    const journal = readFileSync(join(dir, '.bootstrap/state/web1/journal.jsonl'), 'utf8');
    assert.match(journal, /"stepId":"rescue-enable","status":"failed".*provider-unauthorized/);
  });

  test('doctor: one read-only call per account and a lookup per host; a wrong token and a read-only hint are reported', async () => {
    manifest(PROVIDER);
    fake.reset();
    const bad = await cli(['doctor', '--json']);
    const badCheck = (JSON.parse(bad.stdout) as { checks: Array<{ name: string; status: string; detail: string; fix?: string }> }).checks.find((c) => c.name.startsWith('provider'));
    assert.equal(badCheck?.status, 'warn');
    assert.match(badCheck?.detail ?? '', /HTTP 401/);
    assert.match(badCheck?.fix ?? '', /wrong or revoked/);
    assert.equal((await cli(['secrets', 'set', 'providers/hcloud/token', '--force'], `${fake.token}\n`)).code, 0);
    fake.reset();
    const ok = await cli(['doctor', '--json']);
    const check = (JSON.parse(ok.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find((c) => c.name === 'provider hetzner-cloud (providers/hcloud)');
    assert.equal(check?.status, 'ok', JSON.stringify(check));
    assert.match(check!.detail, /finds web1/);
    assert.match(check!.detail, /Read & Write/);
    assert.deepEqual(fake.requests.map((q) => `${q.method} ${q.path}`), ['GET /v1/servers?per_page=1', 'GET /v1/servers?name=web1']);
    manifest(PROVIDER.replace('server = "web1"', 'server = "gone1"'));
    fake.reset();
    const gone = await cli(['doctor', '--json']);
    const g = (JSON.parse(gone.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find((c) => c.name.startsWith('provider'));
    assert.equal(g?.status, 'warn');
    assert.match(g!.detail, /web1: Hetzner Cloud: no server named gone1/);
  });
});

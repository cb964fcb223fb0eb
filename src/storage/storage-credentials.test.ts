/** Pure parts of issue 11 item 7: attic's cache-name rule, the netrc machine, the CA file, attic.nix's jwt, the SDK notice switch. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isBootstrapError } from '../errors.js';
import { CACHE_NAME, cacheConfigUrl, checkCacheName } from './attic-api.js';
import { buildAtticModule, buildAtticSettings } from './attic-server.js';
import { buildCaFileName, buildCaTrust, parseCaPem, resolveCaPath } from './ca-cert.js';
import { buildCacheClientModule, buildCacheNetrc } from './cache-client-module.js';
import { SDK_NODE_WARNING_ENV, silenceSdkNodeVersionWarning } from './s3-client.js';
import { buildS3Settings } from './s3-settings.js';

describe("attic's cache-name rule (attic/src/cache.rs)", () => {
  // attic's own test_cache_name cases, verbatim.
  const valid = ['valid-name', 'Another_Valid_Name', 'plan9', 'username+cache'];
  const invalid = ['', 'not a valid name', 'team-*', '这布盒里.webp', '-ers', 'and-you-can-have-it-all-my-empire-of-dirt-i-will-let-you-down-i-will-make-you-hurt'];
  for (const name of valid) it(`accepts ${JSON.stringify(name)}`, () => assert.equal(checkCacheName(name), name));
  for (const name of invalid) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      assert.throws(() => checkCacheName(name), (e: unknown) => isBootstrapError(e) && e.kind === 'usage' && e.code === 'bad-cache-name');
    });
  }
  it('refuses "." (atticd does) and accepts "+" (team+main), 50 characters at most', () => {
    assert.equal(CACHE_NAME.test('my.cache'), false);
    assert.equal(CACHE_NAME.test('team+main'), true);
    assert.equal(CACHE_NAME.test('_x'), false, 'the first character is a letter or digit');
    assert.equal(CACHE_NAME.test('a'.repeat(50)), true);
    assert.equal(CACHE_NAME.test('a'.repeat(51)), false);
    assert.equal(CACHE_NAME.test('main\n'), false, 'no trailing newline slips through $');
    assert.equal(cacheConfigUrl('https://c.example/', 'team+main'), 'https://c.example/_api/v1/cache-config/team+main');
    assert.throws(() => cacheConfigUrl('https://c.example/', 'my.cache'), /not a valid attic cache name/);
  });
  it('renders a client module for a cache whose key carries a "+" name', () => {
    const f = buildCacheClientModule({ host: 'web1', hostDir: 'hosts/web1', substituter: 'https://c.example/team+main', publicKey: `team+main:${'A'.repeat(43)}=`, private: false, secretsMode: 'sops' });
    assert.match(f.content, /team\+main:/);
  });
});

describe('netrc machine', () => {
  it('is the host of the substituter the host downloads from, not the API URL', () => {
    assert.equal(buildCacheNetrc('https://cdn.example.org/main', 'tok'), 'machine cdn.example.org\npassword tok\n');
    assert.equal(buildCacheNetrc('http://127.0.0.1:8080/main', 'tok'), 'machine 127.0.0.1\npassword tok\n');
  });
});

describe('storage CA certificate on the host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-ca-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=ca',
    '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
  const key = readFileSync(join(dir, 'k.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });

  it('keeps only certificate blocks, normalised, and refuses keys and garbage', () => {
    assert.equal(parseCaPem(`junk before\r\n${pem.replace(/\n/g, '\r\n')}`, 'x'), pem.trimEnd() + '\n');
    assert.equal(parseCaPem(pem + pem, 'x'), `${pem.trimEnd()}\n${pem.trimEnd()}\n`, 'a bundle keeps every certificate');
    assert.throws(() => parseCaPem(key, 'caCert k.pem'), (e: unknown) => isBootstrapError(e) && e.code === 'bad-ca-cert' && !e.message.includes('PRIVATE'));
    assert.throws(() => parseCaPem('-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n', 'x'), /does not parse/);
  });
  it('names the file so Nix can write it as a path literal, and trusts it system-wide', () => {
    assert.equal(buildCaFileName('minio'), 'storage-ca-minio.pem');
    assert.equal(buildCaFileName('my store/ä'), 'storage-ca-my-store.pem');
    assert.deepEqual(buildCaTrust(undefined), {});
    assert.ok('security' in buildCaTrust({ fileName: 'storage-ca-minio.pem', pem }));
  });
  it('reads a relative caCert from the flake, not the shell directory', () => {
    assert.equal(resolveCaPath('/flake', 'certs/ca.pem'), '/flake/certs/ca.pem');
    assert.equal(resolveCaPath('/flake', '/etc/ca.pem'), '/etc/ca.pem');
  });
});

describe('attic.nix for every attic release', () => {
  const s3 = buildS3Settings('m', { provider: 'custom', endpoint: 'https://minio.example:9000', bucket: 'abc' });
  const plan = { host: 'cache1', hostDir: 'hosts/cache1', s3, listen: '[::]:8080', secretsMode: 'sops' as const };
  it('has an empty [jwt] table (required by attic 2023-11..2024-10, harmless after)', () => {
    assert.deepEqual(buildAtticSettings(plan).jwt, {});
  });
  it('picks environmentFile or credentialsFile from the evaluated options', () => {
    const text = buildAtticModule(plan).content;
    assert.match(text, /^\{\n {2}config,\n {2}options,\n {2}\.\.\.\n\}:/m);
    assert.match(text, /if options\.services\.atticd \? environmentFile then/);
    assert.doesNotMatch(text, /security/, 'no CA, no trust-store entry');
  });
});

describe("the AWS SDK's Node-version notice", () => {
  it('is switched off through the variable the SDK reads, unless the user set it', () => {
    const env: NodeJS.ProcessEnv = {};
    silenceSdkNodeVersionWarning(env);
    assert.equal(env[SDK_NODE_WARNING_ENV], 'true');
    const mine: NodeJS.ProcessEnv = { [SDK_NODE_WARNING_ENV]: 'false' };
    silenceSdkNodeVersionWarning(mine);
    assert.equal(mine[SDK_NODE_WARNING_ENV], 'false');
    assert.equal(SDK_NODE_WARNING_ENV, 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED');
  });
});

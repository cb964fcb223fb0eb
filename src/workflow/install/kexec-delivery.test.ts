import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../../errors.js';
import { buildKexecImageJson, checkKexecReachable, describeSource } from './kexec-delivery.js';

const report = (ipv4DefaultRoute: boolean | undefined, isInstaller = false) => ({
  ...(ipv4DefaultRoute === undefined ? {} : { reach: { ipv4DefaultRoute } }),
  os: { isInstaller } as never,
});
const SHA = 'a'.repeat(64);

test('a target without an IPv4 default route is refused when it would download upstream\'s image, the hint naming the flags', () => {
  assert.throws(
    () => checkKexecReachable('web1', report(false), undefined),
    (e) => isBootstrapError(e) && e.code === 'no-route-to-kexec-image' && e.message === 'web1 has no IPv4 default route, so it cannot download the kexec installer image from GitHub; nothing was touched'
      && /--kexec-image FILE --kexec-sha256 HEX \(uploaded from here\), --kexec-url URL --kexec-sha256 HEX .* --kexec-from cache --kexec-sha256 HEX/.test(e.hint ?? ''),
  );
  // Any route given, an installer already (no kexec), a route, or an older report without the fact: no refusal.
  checkKexecReachable('web1', report(false), { from: 'local', file: '/i.tar.gz', sha256: SHA });
  checkKexecReachable('web1', report(false), { from: 'cache', sha256: SHA });
  checkKexecReachable('web1', report(false, true), undefined);
  checkKexecReachable('web1', report(true), undefined);
  checkKexecReachable('web1', report(undefined), undefined);
});

test('a presigned URL is named without its query (the signature is a credential)', () => {
  assert.equal(describeSource('https://s3.example/b/kexec-images/x.tar.gz?X-Amz-Signature=abc&X-Amz-Credential=K'), 'https://s3.example/b/kexec-images/x.tar.gz');
});

test('--json says which kexec image booted and where it was checked', () => {
  const os = (isInstaller: boolean) => ({ os: { isInstaller } as never });
  assert.deepEqual(buildKexecImageJson({ answers: {}, report: os(false) }), { from: 'upstream', checked: "not verified: upstream's default image, downloaded by the target" });
  assert.deepEqual(buildKexecImageJson({ answers: { kexecImage: '/i.tar.gz', kexecSha256: SHA }, report: os(false) }).checked.split(',')[0], 'here');
  assert.deepEqual(buildKexecImageJson({ answers: { kexecUrl: 'https://x.example/k.tar.gz?token=t', kexecSha256: `sha256:${SHA.toUpperCase()}` }, report: os(false) }), { from: 'url', sha256: SHA, url: 'https://x.example/k.tar.gz', checked: 'on the target, after its download and again right before kexec' });
  assert.equal(buildKexecImageJson({ answers: { kexecFrom: 'cache', kexecSha256: SHA }, report: os(false) }).from, 'cache');
  assert.equal(buildKexecImageJson({ answers: { kexecFrom: 'cache', kexecSha256: SHA }, report: os(true) }).from, 'none');
});

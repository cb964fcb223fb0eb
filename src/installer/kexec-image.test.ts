import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBootstrapError } from '../errors.js';
import { parseKexecSha256, runVerifyKexecImage } from './kexec-image.js';

test('parseKexecSha256: hex, any case, an optional sha256: prefix; anything else is a usage error', () => {
  const hex = 'AB'.repeat(32);
  assert.equal(parseKexecSha256(hex), hex.toLowerCase());
  assert.equal(parseKexecSha256(`sha256:${hex}`), hex.toLowerCase());
  for (const bad of ['', 'ab', `sha512:${hex}`, `${hex}0`, 'sha256-q83vEjRWeJASNFZ4kBI0Vng=']) {
    assert.throws(() => parseKexecSha256(bad), (e) => isBootstrapError(e) && e.code === 'bad-flag');
  }
});

test('runVerifyKexecImage: the pinned content passes, one changed byte is refused naming both hashes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-kexec-'));
  try {
    const f = join(dir, 'k.tar.gz');
    writeFileSync(f, Buffer.alloc(3 * 1024 * 1024, 7));
    const sha = createHash('sha256').update(Buffer.alloc(3 * 1024 * 1024, 7)).digest('hex');
    await runVerifyKexecImage(f, sha);
    writeFileSync(f, Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from('x')]));
    await assert.rejects(runVerifyKexecImage(f, `sha256:${sha}`), (e) => isBootstrapError(e) && e.code === 'kexec-image-mismatch' && e.message.includes(`not the pinned ${sha}`) && /nothing was booted/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The --json error document and how main.ts decides it is wanted. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failure, usageError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { Output } from '../ports/output.js';
import { buildErrorJson, exitCodeFor, renderErrorJson, wantsJson } from './render-error.js';

describe('error as JSON', () => {
  it('has code, message and hint (null when there is none)', () => {
    assert.deepEqual(buildErrorJson(usageError('bad-flag', 'unknown --x', 'see help')), { ok: false, error: { code: 'bad-flag', message: 'unknown --x', hint: 'see help' } });
    assert.deepEqual(buildErrorJson(failure('attic-unreachable', 'no attic')), { ok: false, error: { code: 'attic-unreachable', message: 'no attic', hint: null } });
  });
  it('calls a bug "internal", first line only', () => {
    const j = buildErrorJson(new TypeError('boom\nat frame'));
    assert.equal(j.error.code, 'internal');
    assert.equal(j.error.message, 'internal error: boom');
    assert.match(j.error.hint!, /--debug/);
  });
  it('masks a secret even when JSON escaping would change its bytes', () => {
    const secret = 'pa"ss\\word-json-1234';
    registerSecret(secret);
    let stdout = '';
    let stderr = '';
    const out = new Output({ write: (t) => void (stdout += t) }, { write: (t) => void (stderr += t) }, { color: false });
    const e = failure('s3-denied', `refused key ${secret}`, `rotate ${secret}`);
    renderErrorJson(out, e, false);
    const doc = JSON.parse(stdout) as { error: { message: string; hint: string } };
    assert.equal(doc.error.message, 'refused key [REDACTED]');
    assert.equal(doc.error.hint, 'rotate [REDACTED]');
    assert.ok(!stdout.includes('word-json-1234') && !stderr.includes('word-json-1234'));
    assert.match(stderr, /^error: refused key \[REDACTED\]\n/, 'stderr keeps the human message');
    assert.equal(exitCodeFor(e), 1);
  });
});

describe('wantsJson', () => {
  it("follows the command's parsed --json once there is one", () => {
    assert.equal(wantsJson(['probe', '--json'], false), false);
    assert.equal(wantsJson(['probe'], true), true);
  });
  it('before parsing: a --json before `--`', () => {
    assert.equal(wantsJson(['cache', 'setup', '--bogus', '--json']), true);
    assert.equal(wantsJson(['cache', 'setup', '--bogus']), false);
    assert.equal(wantsJson(['x', '--', '--json']), false);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControls, sanitizeStrings } from './sanitize.js';

test('control and escape characters from a target are shown escaped, everything else kept', () => {
  assert.equal(escapeControls('Samsung SSD 980 PRO 1TB'), 'Samsung SSD 980 PRO 1TB');
  assert.equal(escapeControls('\x1b[2K\rThis ERASES nothing'), '\\x1b[2K\\x0dThis ERASES nothing');
  assert.equal(escapeControls('\x1b]52;c;ZXZpbA==\x07'), '\\x1b]52;c;ZXZpbA==\\x07', 'no clipboard write (OSC 52)');
  assert.equal(escapeControls('a\nb\u009bc\u007f'), 'a\\x0ab\\x9bc\\x7f');
  assert.equal(escapeControls('Größe – ünïcode'), 'Größe – ünïcode');
  const report = { dmi: { vendor: 'ACME\x1b[31m' }, disks: [{ model: 'x\x07', sizeBytes: 5, byId: ['/dev/disk/by-id/a'] }], battery: null };
  assert.deepEqual(sanitizeStrings(report), { dmi: { vendor: 'ACME\\x1b[31m' }, disks: [{ model: 'x\\x07', sizeBytes: 5, byId: ['/dev/disk/by-id/a'] }], battery: null });
});

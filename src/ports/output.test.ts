/** A note said while a terminal task line is open is printed above it, and the line drawn again. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Output } from './output.js';

test('notes during a task do not interleave with its line', () => {
  let err = '';
  const out = new Output({ write: () => undefined }, { write: (t) => void (err += t), isTTY: true }, { color: true });
  const t = out.task('write files');
  out.warn('a note');
  t.done();
  // Per \r-cleared line, what the screen shows: the note, then the finished task line.
  const lines = err.split('\n').map((l) => l.split('\r\x1b[2K').pop()!).filter(Boolean);
  assert.match(lines[0]!, /warning:.*a note/);
  assert.match(lines[1]!, /✔.* write files/);
  assert.equal(lines.length, 2);
});

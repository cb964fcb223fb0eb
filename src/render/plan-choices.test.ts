import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostName, parseSize } from './plan-choices.js';

test('sizes', () => {
  const G = 1024 ** 3;
  const rows: Array<[string, number]> = [['0', 0], ['8G', 8 * G], ['8GiB', 8 * G], ['512M', 512 * 1024 ** 2], ['1.5g', 1.5 * G], ['1T', 1024 * G], ['4096', 4096]];
  for (const [text, bytes] of rows) assert.equal(parseSize(text), bytes, text);
  assert.throws(() => parseSize('lots'), /--swap "lots" is not a size/);
  assert.throws(() => parseSize('-1G'), /not a size/);
});

test('host names are lowercase RFC 1123 labels', () => {
  for (const ok of ['web1', 'a', 'db-2', '0node', 'x'.repeat(63)]) assert.equal(checkHostName(ok), ok);
  for (const bad of ['', 'Web1', 'web_1', '-web', 'web-', 'web.example.com', 'x'.repeat(64), 'wéb']) assert.throws(() => checkHostName(bad), /not a valid host name/, bad);
});

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../test/helpers/tmp.js';
import { withFlakeLock } from './flake-lock.js';

test('concurrent read-modify-writes under the flake lock lose no update', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'shared.txt');
    await writeFile(file, '');
    const add = (line: string) =>
      withFlakeLock(dir, '.bootstrap', async () => {
        const before = await readFile(file, 'utf8');
        await new Promise((r) => setTimeout(r, 5)); // widen the race window
        await writeFile(file, before + line + '\n');
      });
    await Promise.all(Array.from({ length: 8 }, (_, i) => add(`host${i}`)));
    const lines = (await readFile(file, 'utf8')).trim().split('\n').sort();
    assert.deepEqual(lines, Array.from({ length: 8 }, (_, i) => `host${i}`).sort());
  });
});

test('a lock file left by a dead process is taken over; a live one times out with a hint', async () => {
  await withTempDir(async (dir) => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, '.bootstrap'));
    await writeFile(join(dir, '.bootstrap/flake.lock'), '999999999');
    assert.equal(await withFlakeLock(dir, '.bootstrap', async () => 'ran'), 'ran');
    await writeFile(join(dir, '.bootstrap/flake.lock'), String(process.pid));
    await assert.rejects(withFlakeLock(dir, '.bootstrap', async () => 'no', 200), (e: Error & { code?: string }) => e.code === 'flake-locked' && /another bootstrap run/.test(e.message));
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUnifiedDiff } from './diff.js';

test('equal texts give no diff', () => {
  assert.equal(buildUnifiedDiff('a\nb\n', 'a\nb\n', 'f'), '');
});

test('one changed line in the middle, with three lines of context', () => {
  const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
  const after = before.replace('5', 'five');
  assert.equal(
    buildUnifiedDiff(before, after, 'hosts/web1/hardware.nix'),
    ['--- a/hosts/web1/hardware.nix', '+++ b/hosts/web1/hardware.nix', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
  );
});

test('the output applies with patch(1) for additions, deletions and separate hunks', () => {
  const before = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const lines = before.split('\n');
  lines.splice(2, 1);
  lines.splice(20, 0, 'inserted a', 'inserted b');
  lines[35] = 'changed';
  const after = lines.join('\n');
  const diff = buildUnifiedDiff(before, after, 'f.txt');
  assert.equal((diff.match(/^@@/gm) ?? []).length, 3);
  const dir = mkdtempSync(join(tmpdir(), 'nb-diff-'));
  try {
    writeFileSync(join(dir, 'f.txt'), before);
    const r = spawnSync('patch', ['-p1', '--quiet'], { cwd: dir, input: diff });
    if (r.error) return; // no patch(1) here: the hunk count above still checked the shape
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(spawnSync('cat', [join(dir, 'f.txt')]).stdout.toString(), after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file created from nothing is all additions', () => {
  assert.equal(buildUnifiedDiff('', 'x\ny\n', 'n'), '--- a/n\n+++ b/n\n@@ -0,0 +1,2 @@\n+x\n+y\n');
});

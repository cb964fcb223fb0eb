/**
 * Imports run one way (issue 14): the CLI layer (src/cli) parses flags, builds a context and
 * renders; everything below it (workflow, install, ssh, keys, secrets, ports, …) must not reach up
 * into it. Only src/cli itself and the entry point (src/main.ts) import from src/cli. Read from
 * the source text, so a new upward edge fails here with the file and line that added it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

const SRC = join(REPO_ROOT, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of a file: [line number, the module it resolves to (relative to src/)]. */
function importsOf(file: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) out.push([i + 1, relative(SRC, resolve(dirname(file), m[1]!))]);
  });
  return out;
}

const inCli = (p: string) => p === 'cli' || p.startsWith('cli/');

test('no module below the CLI layer imports src/cli (only src/cli and src/main.ts do)', () => {
  const upward: string[] = [];
  for (const file of tsFiles(SRC)) {
    const rel = relative(SRC, file);
    if (inCli(rel) || rel === 'main.ts' || rel === 'bin.ts') continue;
    for (const [line, target] of importsOf(file)) if (inCli(target)) upward.push(`src/${rel}:${line} imports src/${target}`);
  }
  assert.deepEqual(upward, [], `upward imports into the CLI layer:\n${upward.join('\n')}`);
});

test('the check sees imports: src/main.ts does import the CLI layer', () => {
  assert.ok(importsOf(join(SRC, 'main.ts')).some(([, t]) => inCli(t)), 'importsOf found no cli/ import in main.ts: the pattern is broken');
});

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

/**
 * Workflows (src/workflow/DIR/) may build on one another (fleet runs rebuild), but never in a
 * circle (issue 21: fleet → rebuild → install/summary → status → fleet): what several share lives
 * in src/workflow/shared/, which imports no workflow at all. The files directly in src/workflow/
 * (step runner, journal, locks) are the floor every workflow stands on.
 */
const workflowOf = (p: string): string | undefined => {
  const m = /^workflow\/([^/]+)\//.exec(p);
  return m ? m[1] : undefined;
};

/** workflow → the workflows it imports, with one file:line per edge as the witness. */
function workflowGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of tsFiles(join(SRC, 'workflow'))) {
    const rel = relative(SRC, file);
    const from = workflowOf(rel);
    if (!from || rel.endsWith('.test.ts')) continue;
    for (const [line, target] of importsOf(file)) {
      const to = workflowOf(target);
      if (!to || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, `src/${rel}:${line}`);
    }
  }
  return graph;
}

/** Every cycle of the graph, each once, as "a → b → a" with the import lines that close it. */
function findCycles(graph: Map<string, Map<string, string>>): string[] {
  const cycles = new Set<string>();
  const walk = (path: string[]) => {
    for (const [next] of graph.get(path[path.length - 1]!) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const loop = path.slice(at);
        const first = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(first), ...loop.slice(0, first)];
        const witness = rotated.map((n, i) => graph.get(n)!.get(rotated[(i + 1) % rotated.length]!)!);
        cycles.add(`${[...rotated, rotated[0]].join(' → ')} (${witness.join(', ')})`);
      } else if (path.length < 32) walk([...path, next]);
    }
  };
  for (const start of graph.keys()) walk([start]);
  return [...cycles].sort();
}

test('no workflow imports another in a circle, and workflow/shared imports no workflow', () => {
  const graph = workflowGraph();
  assert.deepEqual(findCycles(graph), [], 'workflows importing each other in a circle: move what they share to src/workflow/shared/');
  assert.deepEqual([...(graph.get('shared') ?? new Map()).entries()].map(([to, at]) => `${at} imports workflow/${to}`), []);
});

test('the cycle check sees cycles: the old fleet → rebuild → install → status → fleet is found', () => {
  const g = new Map([
    ['fleet', new Map([['rebuild', 'f:1']])],
    ['rebuild', new Map([['install', 'r:1']])],
    ['install', new Map([['status', 'i:1']])],
    ['status', new Map([['fleet', 's:1']])],
    ['plan', new Map([['install', 'p:1']])],
  ]);
  assert.deepEqual(findCycles(g), ['fleet → rebuild → install → status → fleet (f:1, r:1, i:1, s:1)']);
  assert.ok(workflowGraph().get('fleet')?.has('rebuild'), 'the graph sees fleet importing rebuild: the edge reading is broken');
});

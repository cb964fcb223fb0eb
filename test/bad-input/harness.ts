/**
 * The bad-input table's machinery: a case is a command line plus the files it reads; each runs
 * against a fresh flake directory, and the verdict checks the exit code, that stderr is one
 * error line (plus at most one hint line) with no stack and no "internal error", and that the
 * flake directory is byte-identical afterwards.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CliResult } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/cli.js';
import type { BuiltCli } from '../helpers/built-cli.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

export interface Case {
  name: string;
  /** argv; "{flake}" and "{in}" are replaced by the case's flake and input directories. */
  args: string[];
  /** Files in the flake besides flake.nix (path → content). */
  flake?: Record<string, string>;
  /** Files the command reads from outside the flake ({in}/NAME). */
  inputs?: Record<string, string>;
  /** Put hosts/web1/bootstrap.toml (a real manifest, written by `plan --write`) in the flake. */
  manifest?: boolean;
  /** The error line must match. */
  expect?: RegExp;
  /** Expected exit code: 2 (bad input, the default) or 0 (hostile but valid input, handled). */
  code?: 0 | 2;
}

export const REPORTS = join(REPO_ROOT, 'test/fixtures/reports');
export const FACTER = join(REPO_ROOT, 'test/fixtures/facter');
export const readJson = (file: string): Record<string, any> => JSON.parse(readFileSync(file, 'utf8'));

/** A report fixture, changed by `edit`, as JSON text. */
export function reportWith(scenario: string, edit: (r: Record<string, any>) => void): string {
  const r = readJson(join(REPORTS, `${scenario}.json`));
  edit(r);
  return JSON.stringify(r);
}

/** `n` of `list`, starting at `i` and wrapping: spreads a table's rows over its commands. */
export const rotate = <T>(list: readonly T[], i: number, n: number): T[] => Array.from({ length: Math.min(n, list.length) }, (_, k) => list[(i + k) % list.length]!);

export interface Outcome {
  result: CliResult;
  ms: number;
  treeBefore: unknown;
  treeAfter: unknown;
}

function writeFiles(dir: string, files: Record<string, string> | undefined): void {
  for (const [path, content] of Object.entries(files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

export async function runCase(cli: BuiltCli, c: Case, env: Record<string, string | undefined>, manifest: string): Promise<Outcome> {
  const root = mkdtempSync(join(tmpdir(), 'nb-bad-'));
  try {
    const flake = join(root, 'flake');
    const inputs = join(root, 'in');
    mkdirSync(flake);
    mkdirSync(inputs);
    writeFileSync(join(flake, 'flake.nix'), '{ outputs = _: { }; }\n');
    if (c.manifest) writeFiles(flake, { 'hosts/web1/bootstrap.toml': manifest });
    writeFiles(flake, c.flake);
    writeFiles(inputs, c.inputs);
    const args = c.args.map((a) => a.replaceAll('{flake}', flake).replaceAll('{in}', inputs));
    const treeBefore = snapshotTree(flake);
    const started = Date.now();
    // A bad input fails in well under a second; the limit only catches a CLI that hangs after
    // its error, with room for a loaded machine.
    const result = await cli.run(args, { cwd: flake, env, timeoutMs: 60_000 });
    return { result, ms: Date.now() - started, treeBefore, treeAfter: snapshotTree(flake) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

export function checkOutcome(c: Case, o: Outcome): void {
  const { code, stdout, stderr } = o.result;
  const why = `${c.args.join(' ')}${code === null ? ` (killed after ${o.ms} ms: the CLI did not exit)` : ''}\n--- stderr:\n${stderr}--- stdout:\n${stdout.slice(0, 2000)}`;
  assert.doesNotMatch(stderr, /^\s+at /m, `no stack trace: ${why}`);
  assert.doesNotMatch(stderr, /internal error/, why);
  assert.doesNotMatch(stderr, CONTROL, `control characters reach the terminal: ${why}`);
  assert.equal(code, c.code ?? 2, why);
  assert.deepEqual(o.treeAfter, o.treeBefore, `the flake directory changed: ${why}`);
  if ((c.code ?? 2) === 0) return;
  const lines = stderr.replace(/\n$/, '').split('\n');
  assert.ok(lines.length <= 2 && lines[0]!.startsWith('error: ') && (lines.length === 1 || /^ {2}hint: \S/.test(lines[1]!)), `one error line, at most one hint: ${why}`);
  // Under --json the error is also one JSON document on stdout, for scripts; otherwise nothing.
  const json = c.args.slice(0, c.args.includes('--') ? c.args.indexOf('--') : undefined).includes('--json');
  if (json) {
    const doc = JSON.parse(stdout) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(doc.ok, false, why);
    // The same message; the terminal line shows control characters escaped, JSON carries them encoded.
    assert.ok(typeof doc.error.code === 'string' && doc.error.message.length > 0, why);
    const raw = /[\u0000-\u001f\u007f]/.test(doc.error.message); // shown escaped on the terminal
    assert.ok(raw || lines[0] === `error: ${doc.error.message}`, `the JSON error is the line on stderr: ${why}`);
  } else assert.equal(stdout, '', `nothing on stdout: ${why}`);
  if (c.expect) assert.match(lines[0]!, c.expect, why);
}

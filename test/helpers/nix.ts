/**
 * Real Nix for tests: Debian's nix-instantiate with a dummy store (shared/test-infra.md §6), so no
 * /nix is created and no daemon is needed. Every call throws with nix's stderr on failure.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type RunResult } from '../../src/exec/run.js';

const NIX_ENV = { NIX_REMOTE: 'dummy://', NIX_CONFIG: 'build-users-group =', NIX_PATH: '' };
const BASE = ['nix-instantiate', '--store', 'dummy://', '--option', 'build-users-group', ''];

async function nix(args: string[], input?: string): Promise<RunResult> {
  const r = await runCommand([...BASE, ...args], { env: NIX_ENV, check: false, input });
  if (r.code !== 0) throw new Error(`nix-instantiate ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r;
}

/** `nix-instantiate --parse` of source text (from stdin); returns the normalised AST print. */
export async function parseNix(text: string): Promise<string> {
  return (await nix(['--parse', '-'], text)).stdout;
}

/** Write source to a temporary file, run fn on its path, remove it. For files that import each other use a dir. */
export async function withNixFiles<T>(files: Record<string, string>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'nb-nix-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `--eval --strict --json` of a file path. */
export async function evalFileJson(path: string, attr?: string): Promise<unknown> {
  const r = await nix(['--eval', '--strict', '--json', path, ...(attr ? ['-A', attr] : [])]);
  return JSON.parse(r.stdout);
}

/** `--eval --strict --json -E expr` (relative paths in expr resolve against cwd, so use absolute ones). */
export async function evalExprJson(expr: string): Promise<unknown> {
  const r = await nix(['--eval', '--strict', '--json', '-E', expr]);
  return JSON.parse(r.stdout);
}

/** Evaluate Nix source text (written to a temp file) to JSON. */
export async function evalTextJson(text: string): Promise<unknown> {
  return withNixFiles({ 'expr.nix': text }, (dir) => evalFileJson(join(dir, 'expr.nix')));
}

/** Evaluate a NixOS-style module file with stub arguments, the way hardware.nix is checked. */
export async function evalModuleJson(text: string, args = '{ config = { hardware.enableRedistributableFirmware = true; }; lib = { mkDefault = x: x; mkForce = x: x; }; pkgs = { }; modulesPath = "/x"; }'): Promise<unknown> {
  return withNixFiles({ 'module.nix': text }, (dir) => evalExprJson(`(import ${join(dir, 'module.nix')}) ${args}`));
}

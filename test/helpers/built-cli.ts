/**
 * The CLI compiled once per test file (esbuild, file by file, no bundling) into a temporary copy
 * of the repository layout, so a table of hundreds of CLI cases does not pay tsx's start-up per
 * call (~0.2 s instead of ~0.5 s). Always the current src/, unlike dist/. Each call runs in a new
 * network namespace when this machine allows it (`unshare -n`), so no case can reach a network.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT, type CliResult } from './cli.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else out.push(p);
  }
  return out;
}

export interface BuiltCli {
  run(args: string[], opts?: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<CliResult>;
  /** True when every call runs without a network (unshare -n). */
  isolated: boolean;
  cleanup(): void;
}

export async function buildCli(): Promise<BuiltCli> {
  const root = mkdtempSync(join(tmpdir(), 'nb-built-cli-'));
  const src = join(REPO_ROOT, 'src');
  const files = sources(src);
  await build({
    entryPoints: files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')),
    outdir: join(root, 'src'),
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
  for (const f of files.filter((f) => /\.(sh|nix|json)$/.test(f))) cpSync(f, join(root, 'src', relative(src, f)));
  // The runtime reads these relative to its own files (import.meta.url).
  for (const name of ['node_modules', 'templates', 'hardware-profiles', 'package.json']) symlinkSync(join(REPO_ROOT, name), join(root, name));
  const isolated = spawnSync('unshare', ['-n', 'true']).status === 0;
  const bin = join(root, 'src/bin.js');

  const run: BuiltCli['run'] = (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env };
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
      const argv = [process.execPath, bin, ...args];
      const child = spawn(isolated ? 'unshare' : argv[0]!, isolated ? ['-n', ...argv] : argv.slice(1), { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  return { run, isolated, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Run `fn` over `items`, at most `limit` at a time; results in input order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Whether flake.nix picks up the host's folder, decided by evaluating the flake (issue 18), not by
 * reading its text: `nixosConfigurations.HOST` must exist and its module graph (nixpkgs lib's
 * evalModules `graph`, nixpkgs 25.05 and later) must import a file of the host's folder. Flakes
 * that import `(./hosts + "/${name}")`, a readDir of the hosts, or a helper of their own are all
 * judged the same way.
 *
 * The evaluation runs on a copy of the flake with the planned host files in it (nothing is written
 * into the user's flake, and a folder not written yet is seen as it will be), as a `path:` flake,
 * so whether git tracks the files is left to preflight's own check. `--offline`: inputs come from
 * the local store, nothing is fetched for a hint.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { AppContext } from '../../context.js';
import { isBootstrapError } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import { NIX_FLAKES } from '../../installer/build-first.js';
import { buildFlakeRelative } from '../../nix/option-conflict.js';
import { nixString } from '../../nix/serialize.js';
import type { PlannedFile } from '../../render/file-plan.js';

export type Pickup = { kind: 'yes' } | { kind: 'no'; why: 'no-configuration' | 'not-imported' } | { kind: 'unknown'; reason: string };

/**
 * The apply: null without nixosConfigurations.HOST, false without a module graph (older nixpkgs),
 * else every file of the graph's enabled modules. The fake nix in test/fakes accepts exactly this.
 */
export function buildPickupApply(host: string): string {
  return (
    `cs: if !(builtins.hasAttr ${nixString(host)} cs) then null else let c = cs.${nixString(host)}; ` +
    'files = n: if n.disabled then [ ] else [ (toString n.file) ] ++ builtins.concatMap files n.imports; ' +
    'in if c ? graph then builtins.concatMap files c.graph else false'
  );
}

export function buildPickupArgv(flakeRef: string, host: string): string[] {
  return ['nix', ...NIX_FLAKES, 'eval', '--offline', '--json', `${flakeRef}#nixosConfigurations`, '--apply', buildPickupApply(host)];
}

/** nix's answer → Pickup. Files are store paths (or paths under `copyDir`). Pure. */
export function parsePickup(stdout: string, hostDir: string, copyDir: string): Pickup {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    return { kind: 'unknown', reason: 'nix printed no answer' };
  }
  if (v === null) return { kind: 'no', why: 'no-configuration' };
  if (v === false) return { kind: 'unknown', reason: 'its nixpkgs has no module graph (before 25.05)' };
  if (!Array.isArray(v)) return { kind: 'unknown', reason: 'nix printed no file list' };
  const dir = hostDir.replace(/^\.\//, '').replace(/\/+$/, '');
  const inHost = (f: string) => {
    const rel = buildFlakeRelative(f, copyDir);
    // A flake in a sub-folder of a git repository is copied from the repository's root.
    return rel === dir || rel.startsWith(`${dir}/`) || rel.endsWith(`/${dir}`) || rel.includes(`/${dir}/`);
  };
  return v.some((f) => typeof f === 'string' && inHost(f)) ? { kind: 'yes' } : { kind: 'no', why: 'not-imported' };
}

const SKIP = new Set(['.git', '.bootstrap', '.direnv', 'node_modules', 'result']);

/** Evaluate whether the flake picks up the host, with the planned files in place. */
export async function runPickupCheck(app: Pick<AppContext, 'run' | 'signal'>, flakeDir: string, host: string, hostDir: string, planned: readonly PlannedFile[]): Promise<Pickup> {
  if (!existsSync(join(flakeDir, 'flake.nix'))) return { kind: 'unknown', reason: 'there is no flake.nix' };
  const tmp = await mkdtemp(join(tmpdir(), 'nb-pickup-'));
  try {
    const copy = join(tmp, basename(flakeDir) || 'flake');
    await cp(flakeDir, copy, { recursive: true, verbatimSymlinks: true, filter: (src) => !SKIP.has(basename(src)) || src === flakeDir });
    for (const f of planned) {
      await mkdir(join(copy, dirname(f.path)), { recursive: true });
      await writeFile(join(copy, f.path), f.content);
    }
    const r = await app.run(buildPickupArgv(`path:${copy}`, host), { cwd: copy, signal: app.signal, timeoutMs: 5 * 60_000 });
    return parsePickup(r.stdout, hostDir, copy);
  } catch (e) {
    if (isBootstrapError(e) && e.code === 'missing-tool') return { kind: 'unknown', reason: 'nix is not installed here' };
    if (!(e instanceof CommandFailed)) throw e;
    // No nixosConfigurations at all: the flake does not define the host.
    if (/does not provide attribute .*nixosConfigurations/.test(e.result.stderr)) return { kind: 'no', why: 'no-configuration' };
    const line = e.result.stderr.split('\n').map((l) => l.trim()).find((l) => l.startsWith('error:'));
    return { kind: 'unknown', reason: `the flake does not evaluate here (${(line ?? `nix exited with ${e.result.code}`).slice(0, 200)})` };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

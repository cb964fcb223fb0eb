/**
 * Preflight, the nix half: before anything touches the target, the flake defines the host, nix
 * can see the host's files (git), the evaluated config formats exactly the planned disks, and the
 * system and disko script are built (or evaluated, with --build-on remote). The built paths are
 * kept in the run's state, so a resumed run hands the installer the same ones.
 */
import { hostDir } from '../../config/host-dir.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Task } from '../../ports/output.js';
import { whichOnPath } from '../../doctor/checks.js';
import { CommandFailed } from '../../exec/run.js';
import { failure, type BootstrapError } from '../../errors.js';
import { describeOptionConflict, parseOptionConflict } from '../../nix/option-conflict.js';
import {
  buildDiskoDevicesArgv,
  buildEvalDrvArgv,
  buildSystemBuildArgv,
  compareDiskoDisks,
  NIX_FLAKES,
  parseBuildJson,
  parseDiskoDevices,
  type BuiltPaths,
} from '../../installer/build-first.js';
import type { InstallCtx } from './context.js';

type C = Pick<InstallCtx, 'app' | 'flakeDir' | 'host' | 'out' | 'signal' | 'loaded' | 'plan' | 'answers'>;

/** What the installer gets from preflight: store paths, or nothing to build here (remote). */
export type BuildResult = { kind: 'local'; paths: BuiltPaths } | { kind: 'remote' };

const NIX_TIMEOUT_MS = 60 * 60_000;

/** argv of the check: the attribute names of nixosConfigurations as JSON. Pure. */
export function buildFlakeCheckArgv(flakeDir: string): string[] {
  return ['nix', ...NIX_FLAKES, 'eval', '--json', `${flakeDir}#nixosConfigurations`, '--apply', 'builtins.attrNames'];
}

/** The last lines of nix's error output: the part that says what is wrong. */
function nixError(e: CommandFailed): string {
  const lines = e.result.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('warning:'));
  const err = lines.findIndex((l) => l.startsWith('error:'));
  return (err >= 0 ? lines.slice(err, err + 3) : lines.slice(-2)).join(' ').slice(0, 500) || e.message;
}

/**
 * A failed evaluation or build as the error to show. Two modules setting one option to different
 * values (the user's and the host's default.nix) is named with both files and the line to change;
 * anything else is nix's own last lines.
 */
export function buildNixFailure(c: Pick<C, 'flakeDir' | 'host' | 'loaded'>, e: CommandFailed, code: string, what: string, hint: string): BootstrapError {
  const conflict = parseOptionConflict(e.result.stderr, c.flakeDir);
  if (conflict) {
    const d = describeOptionConflict(conflict, `${hostDir(c.loaded.config, c.host)}/default.nix`);
    return failure('option-conflict', `nixosConfigurations.${c.host} does not evaluate: ${d.message}`, d.hint);
  }
  return failure(code, `${what}: ${nixError(e)}`, hint);
}

async function nix(c: C, argv: string[], progress: Task, what: string) {
  progress.update(what);
  return c.app.run(argv, { cwd: c.flakeDir, signal: c.signal, timeoutMs: NIX_TIMEOUT_MS });
}

export async function requireNix(c: Pick<C, 'app'>): Promise<void> {
  if (await whichOnPath('nix', c.app.env)) return;
  throw failure('missing-tool', 'nix is not installed here: the system is built here before the target is touched', 'install Nix (https://nixos.org/download), then run again with --resume');
}

export async function runFlakeCheck(c: C, progress: Task): Promise<void> {
  let names: unknown;
  try {
    names = JSON.parse((await nix(c, buildFlakeCheckArgv(c.flakeDir), progress, 'evaluating the flake')).stdout);
  } catch (e) {
    if (e instanceof CommandFailed) throw buildNixFailure(c, e, 'flake-eval-failed', 'the flake does not evaluate', `fix the flake (try \`nix flake show ${c.flakeDir}\`), then run again with --resume`);
    throw e;
  }
  if (!Array.isArray(names) || !names.includes(c.host)) {
    const dir = hostDir(c.loaded.config, c.host);
    throw failure(
      'flake-missing-host',
      `the flake has no nixosConfigurations.${c.host}`,
      `add it in flake.nix, e.g. nixosConfigurations.${c.host} = nixpkgs.lib.nixosSystem { modules = [ ./${dir} disko.nixosModules.disko ]; }; then run again with --resume`,
    );
  }
}

async function insideGitTree(c: Pick<C, 'app' | 'flakeDir' | 'signal'>): Promise<boolean> {
  if (!(await whichOnPath('git', c.app.env))) return false;
  const inside = await c.app.run(['git', '-C', c.flakeDir, 'rev-parse', '--is-inside-work-tree'], { check: false, signal: c.signal });
  return inside.code === 0 && inside.stdout.trim() === 'true';
}

/**
 * Let nix see files we just wrote in a git flake: `git add --intent-to-add` (what nixos-anywhere
 * does for the hardware config it generates). Nothing is staged; a refusal (.gitignore) is left
 * for the preflight check to explain.
 */
export async function runGitIntentToAdd(c: Pick<C, 'app' | 'flakeDir' | 'signal'>, files: readonly string[]): Promise<boolean> {
  const nixFiles = files.filter((f) => f.endsWith('.nix'));
  if (!nixFiles.length || !(await insideGitTree(c))) return false;
  const r = await c.app.run(['git', '-C', c.flakeDir, 'add', '--intent-to-add', '--', ...nixFiles], { check: false, signal: c.signal });
  return r.code === 0;
}

/** In a git flake nix sees only files git knows: the host's .nix files must be tracked (or added). */
export async function runGitTrackedCheck(c: C, progress: Task): Promise<void> {
  if (!(await insideGitTree(c))) return;
  progress.update('checking that git tracks the host files');
  const files = c.plan.files.map((f) => f.path).filter((p) => p.endsWith('.nix'));
  const listed = await c.app.run(['git', '-C', c.flakeDir, 'ls-files', '--', ...files], { signal: c.signal });
  const tracked = new Set(listed.stdout.split('\n').map((l) => l.trim()));
  const missing = files.filter((f) => !tracked.has(f));
  if (missing.length) {
    throw failure(
      'host-not-tracked',
      `nix cannot see ${missing.join(', ')}: the flake is a git repository and git does not track ${missing.length > 1 ? 'them' : 'it'}`,
      `run \`git -C ${c.flakeDir} add ${missing.join(' ')}\` (check .gitignore), then run again with --resume`,
    );
  }
}

/** The evaluated config must format exactly the planned disks (it imports our disko.nix). */
export async function runDiskoCheck(c: C, progress: Task): Promise<void> {
  const planned = [c.plan.installDisk.path, ...(c.plan.secondDisk ? [c.plan.secondDisk.path] : [])];
  let evaluated: Record<string, string> | null;
  try {
    evaluated = parseDiskoDevices((await nix(c, buildDiskoDevicesArgv(c.flakeDir, c.host), progress, 'evaluating the disk layout')).stdout);
  } catch (e) {
    if (!(e instanceof CommandFailed)) throw e;
    const why = nixError(e);
    if (/attribute 'disko' missing|option [`'"]?disko/.test(why)) {
      throw failure('no-disko', `nixosConfigurations.${c.host} has no disko layout: ${why}`, `add disko.nixosModules.disko to the host's modules and import ./disko.nix in ${hostDir(c.loaded.config, c.host)}/default.nix, then run again with --resume`);
    }
    throw buildNixFailure(c, e, 'flake-eval-failed', `nixosConfigurations.${c.host} does not evaluate`, 'fix the configuration, then run again with --resume; nothing on the target was touched');
  }
  if (!evaluated) throw failure('flake-eval-failed', `nix printed no disk map for nixosConfigurations.${c.host}`, 'run again with --debug to see its output');
  const diff = compareDiskoDisks(evaluated, planned);
  if (diff) {
    throw failure(
      'disko-mismatch',
      `nixosConfigurations.${c.host} does not use the planned disk layout: ${diff}`,
      `import ./disko.nix in ${hostDir(c.loaded.config, c.host)}/default.nix (and no other disko layout), or re-plan with \`bootstrap plan ${c.host} --write\`; nothing was touched`,
    );
  }
}

/** Build the disko script and the system here (or evaluate them, --build-on remote). */
export async function runBuildFirst(c: C, progress: Task): Promise<BuildResult> {
  const o = { ...(c.answers.noDiskoDeps ? { noDiskoDeps: true } : {}) };
  try {
    if (c.answers.buildOn === 'remote') {
      await nix(c, buildEvalDrvArgv(c.flakeDir, c.host, o), progress, 'evaluating the system (it is built on the target)');
      return { kind: 'remote' };
    }
    const r = await nix(c, buildSystemBuildArgv(c.flakeDir, c.host, o), progress, 'building the system and the disko script');
    return { kind: 'local', paths: parseBuildJson(r.stdout) };
  } catch (e) {
    if (e instanceof CommandFailed) {
      throw buildNixFailure(c, e, 'build-failed', `nixosConfigurations.${c.host} does not build`, 'fix the configuration, then run again with --resume; nothing on the target was touched');
    }
    throw e;
  }
}

export function buildBuiltPath(statePath: string): string {
  return join(statePath, '..', 'built.json');
}

export async function saveBuilt(path: string, b: BuildResult): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(b) + '\n', { mode: 0o600 });
}

/** The build of an earlier run, when its store paths still exist here. */
export async function loadBuilt(path: string): Promise<BuildResult | undefined> {
  try {
    const b = JSON.parse(await readFile(path, 'utf8')) as BuildResult;
    if (b.kind === 'remote') return b;
    if (b.kind === 'local' && typeof b.paths?.disko === 'string' && typeof b.paths?.toplevel === 'string' && existsSync(b.paths.disko) && existsSync(b.paths.toplevel)) return b;
  } catch {
    /* no earlier build */
  }
  return undefined;
}

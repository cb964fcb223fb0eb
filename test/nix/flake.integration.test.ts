/**
 * flake.nix evaluated without nixpkgs (issue 22), with nixpkgs' own importNpmLock and
 * buildNpmPackage (test/fixtures/nixpkgs-npm, see ORIGIN.md) and nixos-anywhere's own package
 * (src/default.nix of the pinned revision, ../shared/nix-src); stand-ins only for what needs a
 * store or a network (test/helpers/flake-eval.nix). importNpmLock really reads our
 * package-lock.json (its entries, versions and integrity hashes). The committed lock carries no
 * "resolved" URLs (this workplace's npm config omits them and our commits name no registry host), so
 * the evaluation reads a copy of the flake's files whose lock gets them under a placeholder
 * registry (registry.invalid): what importNpmLock fetches is then checked entry by entry.
 * Nothing is built: whether the package builds and its unit-test check passes is for a machine
 * with Nix ≥ 2.16 and network (`nix build`, `nix flake check`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { NIXOS_ANYWHERE_PIN } from '../../src/nix/pinned-installer.js';
import { REPO_ROOT } from '../helpers/cli.js';

const SHARED = resolve(REPO_ROOT, '../shared/nix-src');
const NIXPKGS_LIB = process.env.NB_NIXPKGS_LIB ?? join(SHARED, 'nixpkgs-lib');
// The source tree of the pinned revision: the folder above src/nixos-anywhere.sh.
const NIXOS_ANYWHERE_SRC = process.env.NB_NIXOS_ANYWHERE_SH ? resolve(dirname(process.env.NB_NIXOS_ANYWHERE_SH), '..') : join(SHARED, 'nixos-anywhere');
const missing = [NIXPKGS_LIB, join(NIXOS_ANYWHERE_SRC, 'src/default.nix')].filter((p) => !existsSync(p));

interface Evaluated {
  inputs: Record<string, { url: string; flake?: boolean }>;
  package: {
    name: string;
    storePath: string;
    postFixup: string;
    npmPackFlags: string[];
    license: string;
    mainProgram: string;
    nativeBuildInputs: string[];
    src: string;
    npmDeps: { name: string; package: { dependencies: Record<string, string>; devDependencies: Record<string, string> }; packageLock: { packages: Record<string, { resolved?: string; version?: string; integrity?: string }> } };
  };
  nixosAnywhere: { name: string; version: string; storePath: string; src: string; installPhase: string };
  app: { type: string; program: string };
  devShell: string[];
  check: { name: string; checkPhase: string; doCheck: boolean; nativeCheckInputs: string[]; sameDeps: boolean };
  systems: string[];
}

/** The flake's files in a fresh folder, its lock with a `resolved` URL per entry (placeholder registry). */
function flakeCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nb-flake-'));
  for (const f of ['flake.nix', 'package.json']) copyFileSync(join(REPO_ROOT, f), join(dir, f));
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; resolved?: string; link?: boolean }> };
  for (const [key, p] of Object.entries(lock.packages)) {
    if (key === '' || p.link || p.resolved || !p.version) continue;
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    p.resolved = `https://registry.invalid/${name}/-/${name.split('/').pop()}-${p.version}.tgz`;
  }
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  return dir;
}

async function evaluate(flakeDir: string): Promise<Evaluated> {
  const r = await runCommand(
    [
      'nix-instantiate', '--store', 'dummy://', '--option', 'build-users-group', '', '--eval', '--strict', '--json',
      join(REPO_ROOT, 'test/helpers/flake-eval.nix'),
      '--arg', 'flakeDir', flakeDir,
      '--arg', 'nixpkgsLib', NIXPKGS_LIB,
      '--arg', 'npmHelpers', join(REPO_ROOT, 'test/fixtures/nixpkgs-npm'),
      '--arg', 'nixosAnywhereSrc', NIXOS_ANYWHERE_SRC,
    ],
    { env: { NIX_REMOTE: 'dummy://', NIX_CONFIG: 'build-users-group =', NIX_PATH: '' }, check: false, timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Evaluated;
}

/** The store paths on PATH after `--prefix PATH :` / `--suffix PATH :` in the wrapper call. */
function pathArg(postFixup: string, kind: 'prefix' | 'suffix'): string[] {
  const m = new RegExp(`--${kind} PATH : (\\S+)`).exec(postFixup);
  return m ? m[1]!.split(':') : [];
}

test('flake.nix: the package, wrapper, pinned installer, app, dev shell and check evaluate with nixpkgs\' real npm helpers', { skip: missing.length ? `missing ${missing.join(', ')}` : false }, async (t) => {
  const dir = flakeCopy();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const e = await evaluate(dir);

  // The installer input is the pinned revision, as source only (its own inputs stay out).
  assert.equal(e.inputs['nixos-anywhere']!.url, `github:nix-community/nixos-anywhere/${NIXOS_ANYWHERE_PIN.rev}`);
  assert.equal(e.inputs['nixos-anywhere']!.flake, false);
  // …built by its own src/default.nix from that tree.
  assert.equal(e.nixosAnywhere.src, NIXOS_ANYWHERE_SRC);
  assert.equal(e.nixosAnywhere.version, NIXOS_ANYWHERE_PIN.version);
  assert.match(e.nixosAnywhere.installPhase, /makeShellWrapper \$out\/libexec\/nixos-anywhere\/nixos-anywhere\.sh/);

  // The wrapper: the runtime tools first on PATH, the pinned nixos-anywhere among them; OpenSSH last.
  const prefix = pathArg(e.package.postFixup, 'prefix');
  const suffix = pathArg(e.package.postFixup, 'suffix');
  assert.match(e.package.postFixup, /^wrapProgram \$out\/bin\/bootstrap /);
  for (const tool of ['age-', 'sops-', 'restic-', 'sshpass-', 'nix-2.24']) assert.ok(prefix.some((p) => p.includes(`-${tool}`) && p.endsWith('/bin')), `${tool} on the wrapper's PATH: ${prefix.join(':')}`);
  assert.ok(prefix.includes(`${e.nixosAnywhere.storePath}/bin`), `the pinned nixos-anywhere on PATH: ${prefix.join(':')}`);
  assert.ok(!prefix.some((p) => p.includes('-openssh-')), 'OpenSSH must not come before the user\'s ssh');
  assert.equal(suffix.length, 1);
  assert.match(suffix[0]!, /-openssh-[^/]+\/bin$/);

  // importNpmLock read our lock: every dependency fetched by URL with its hash, package.json pointing at them.
  assert.ok(e.package.nativeBuildInputs.includes('npm-config-hook'), `importNpmLock's config hook: ${e.package.nativeBuildInputs.join(' ')}`);
  assert.ok(!e.package.nativeBuildInputs.includes('npm-config-hook-default-0'));
  const ourLock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  const entries = Object.entries(e.package.npmDeps.packageLock.packages).filter(([k]) => k !== '');
  assert.equal(entries.length, Object.keys(ourLock.packages).length - 1);
  for (const [key, p] of entries) {
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length).split('/').pop()!;
    assert.match(p.resolved ?? '', new RegExp(`^file:/nix/store/[0-9a-f]{32}-${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${ourLock.packages[key]!.version}\\.tgz$`), key);
  }
  for (const [dep, ref] of Object.entries(e.package.npmDeps.package.dependencies)) assert.equal(ref, e.package.npmDeps.packageLock.packages[`node_modules/${dep}`]!.resolved, dep);
  assert.ok('esbuild' in e.package.npmDeps.package.devDependencies);

  // The package, its app and its metadata.
  assert.equal(e.package.name, `nixos-bootstrap-${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}`);
  assert.equal(e.package.src, dir);
  assert.deepEqual(e.package.npmPackFlags, ['--ignore-scripts']);
  assert.equal(e.package.license, 'MIT');
  assert.equal(e.package.mainProgram, 'bootstrap');
  assert.deepEqual(e.app, { type: 'app', program: `${e.package.storePath}/bin/bootstrap`, meta: { description: 'bootstrap: install NixOS hosts of your flake' } });
  assert.deepEqual(e.systems, ['aarch64-darwin', 'aarch64-linux', 'x86_64-darwin', 'x86_64-linux']);

  // The dev shell has node and what the tests call; the check runs the unit tests with the same deps.
  for (const t of ['nodejs-', 'openssh-', 'age-', 'restic-', 'fish-', 'bash-completion-', 'tmux-', 'nixos-anywhere-']) assert.ok(e.devShell.some((d) => d.startsWith(t)), `${t} in the dev shell: ${e.devShell.join(' ')}`);
  assert.equal(e.check.doCheck, true);
  assert.match(e.check.checkPhase, /npm test -- src\//);
  assert.ok(e.check.sameDeps, 'the check uses the package\'s npm dependencies');
  assert.ok(e.check.nativeCheckInputs.some((d) => d.startsWith('openssh-')));
});

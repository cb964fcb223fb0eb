/**
 * The npm package as a user gets it (issue 22): `npm pack` in a copy of the checkout (prepack builds
 * the bundle), then a real `npm install --offline` of the tarball into a fresh directory outside
 * the checkout, and the installed `bootstrap` run from there: --version, --help, doctor --json and
 * plan --report, plus the 1Password fake hook (NB_ONEPASSWORD_SDK) through the bundle.
 *
 * No network: the fresh directory is seeded with the lock's production dependencies (entries not
 * marked dev, copied from node_modules), so npm resolves the tarball's `dependencies` against them
 * offline. A runtime import missing from `dependencies`, a file missing from `files`, or a path
 * resolved from src/ would fail here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeOnePassword } from '../fakes/onepassword-sdk.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

function sh(argv: string[], opts: { cwd: string; env?: Record<string, string> }): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** What `npm pack` would pack from the checkout, copied (the checkout's own dist/ stays untouched). */
function copyCheckout(to: string): void {
  for (const name of ['package.json', 'package-lock.json', 'README.md', 'LICENSE', 'src', 'scripts', 'bin', 'templates', 'hardware-profiles', 'tsconfig.json']) {
    cpSync(join(REPO_ROOT, name), join(to, name), { recursive: true });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(to, 'node_modules'));
}

/** The lock's production packages (top level; nested ones come inside their parent), copied. */
function seedProductionDeps(app: string): string[] {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const names: string[] = [];
  for (const [key, p] of Object.entries(lock.packages)) {
    if (!key || p.dev || p.devOptional || key.split('node_modules/').length !== 2) continue;
    cpSync(join(REPO_ROOT, key), join(app, key), { recursive: true, verbatimSymlinks: true });
    names.push(key.slice('node_modules/'.length));
  }
  return names;
}

test('the packed tarball ships only what runs, installs offline outside the checkout, and its bootstrap works there', async () => {
  await withTempDir(async (tmp) => {
    const src = join(tmp, 'checkout');
    mkdirSync(src);
    copyCheckout(src);
    const pack = sh(['npm', 'pack', '--json', '--pack-destination', tmp], { cwd: src });
    assert.equal(pack.code, 0, pack.stderr);
    // npm prints prepack's output before the JSON.
    const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info[0]!.files.map((f) => f.path);
    const outside = files.filter((f) => !/^(bin\/|dist\/|templates\/|hardware-profiles\/|README\.md$|LICENSE$|package\.json$)/.test(f));
    assert.deepEqual(outside, [], 'files outside what runs');
    assert.ok(files.includes('LICENSE') && files.includes('dist/bin.js') && files.includes('dist/probe/probe.sh') && files.includes('dist/health/script.sh'), files.join(' '));
    assert.ok(!files.some((f) => f.endsWith('.ts') || f.endsWith('.map') || f === 'dist/meta.json'), 'sources, maps or build metadata shipped');
    const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { scripts: Record<string, string>; engines?: { node?: string }; license?: string };
    assert.equal(pkg.scripts.prepare, undefined, 'nothing is built at the user\'s install');
    assert.match(pkg.engines?.node ?? '', /^>=\s*20/);
    assert.equal(pkg.license, 'MIT');

    // What --help and --version load: the static imports reachable from dist/bin.js (esbuild's
    // metafile of the build prepack ran). No npm package (zod, ssh2, …) and no command's implementation.
    const meta = JSON.parse(readFileSync(join(src, 'dist/meta.json'), 'utf8')) as { outputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }>; inputs: Record<string, unknown> }> };
    const reached = new Set<string>();
    const queue = ['dist/bin.js'];
    const externals = new Set<string>();
    while (queue.length) {
      const f = queue.pop()!;
      if (reached.has(f)) continue;
      reached.add(f);
      for (const i of meta.outputs[f]?.imports ?? []) {
        if (i.kind !== 'import-statement') continue;
        if (i.external) externals.add(i.path);
        else queue.push(i.path);
      }
    }
    assert.deepEqual([...externals].filter((x) => !x.startsWith('node:')), [], 'npm packages loaded before any command runs');
    const modules = [...reached].flatMap((f) => Object.keys(meta.outputs[f]?.inputs ?? {}));
    assert.ok(modules.includes('src/cli/help.ts') && modules.includes('src/cli/commands/plan.ts'), modules.join(' '));
    assert.deepEqual(modules.filter((m) => /-run\.ts$|\/workflow\/install\/choices\.ts$|\/render\//.test(m)), [], 'implementations loaded for help');

    const app = join(tmp, 'fresh');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "name": "fresh", "version": "1.0.0", "private": true }\n');
    const seeded = seedProductionDeps(app);
    assert.ok(seeded.includes('zod') && !seeded.includes('typescript') && !seeded.includes('tsx') && !seeded.includes('esbuild'), seeded.join(' '));
    const inst = sh(['npm', 'install', '--offline', '--no-audit', '--no-fund', '--omit=dev', join(tmp, info[0]!.filename)], { cwd: app });
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    const installed = join(app, 'node_modules/nixos-bootstrap');
    assert.ok(!existsSync(join(installed, 'src')) && !existsSync(join(installed, 'test')), readdirSync(installed).join(' '));
    const bin = join(app, 'node_modules/.bin/bootstrap');
    // Run from a directory of its own: nothing may be found through the checkout or the cwd.
    const work = join(tmp, 'work');
    mkdirSync(work);
    const clean = { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_PATH: '', HOME: join(tmp, 'home') };

    const version = sh([bin, '--version'], { cwd: work, env: clean });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^bootstrap 0\.1\.0\nnode v\d+/);
    assert.match(version.stdout, /nixos-anywhere 1\.13\.0-98-g91fc9b7 .*pinned/);
    assert.match(version.stdout, /\nnix /);

    const help = sh([bin, '--help'], { cwd: work, env: clean });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /new-host/);

    const doctor = sh([bin, 'doctor', '--json', '--flake', work], { cwd: work, env: clean });
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
    assert.equal(checks.find((c) => c.name === 'node')?.status, 'ok', doctor.stdout);
    assert.ok(checks.some((c) => c.name === 'nixos-anywhere' && /91fc9b7|not the tested|version unknown/.test(c.detail)), doctor.stdout);

    // plan reads the report, the hardware profiles and the layouts shipped in the package.
    const report = join(installed, 'templates/examples/hetzner-cloud-x86.report.json');
    const plan = sh([bin, 'plan', 'web1', '--report', report, '--flake', work, '--json'], { cwd: work, env: clean });
    assert.equal(plan.code, 0, plan.stderr);
    const planned = JSON.parse(plan.stdout) as { profile: string; layout: string; files: Array<{ path: string }> };
    assert.equal(planned.profile, 'hetzner-cloud-x86', 'the hardware profile came from the package');
    assert.equal(planned.layout, 'single-ext4', 'the layout catalogue came from the package');
    assert.deepEqual(planned.files.map((f) => f.path), ['disko.nix', 'hardware.nix', 'default.nix', 'facts.json', 'bootstrap.toml'].map((f) => `hosts/web1/${f}`));

    // The 1Password test hook still reaches the bundle: NB_ONEPASSWORD_SDK names the fake module
    // (TypeScript, so this one run loads tsx), and `keys ensure` creates its items in the fake.
    const flake = join(tmp, 'flake');
    mkdirSync(flake);
    writeFileSync(join(flake, 'bootstrap.toml'), '[secrets]\nstore = "onepassword"\n[secrets.onepassword]\nvault = "Infra"\n[sops]\nmode = "none"\n');
    const fake = new FakeOnePassword(undefined, ['Infra']);
    fake.stateFile = join(tmp, 'op-state.json');
    fake.save();
    const keys = sh([process.execPath, '--import', join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs'), bin, 'keys', 'ensure', 'web1', '--json', '--flake', flake], {
      cwd: work,
      env: { ...clean, NB_ONEPASSWORD_SDK: join(REPO_ROOT, 'test/fakes/onepassword-sdk-module.ts'), NB_FAKE_OP_STATE: fake.stateFile, OP_SERVICE_ACCOUNT_TOKEN: fake.validToken },
    });
    assert.equal(keys.code, 0, keys.stderr);
    assert.deepEqual([...FakeOnePassword.load(fake.stateFile).items.values()].map((i) => i.title), ['web1 ssh host key']);
  });
});

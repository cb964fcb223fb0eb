#!/usr/bin/env node
// Bundle the CLI into dist/ (issue 22): dist/bin.js is the entry, one file; each command's
// implementation (the `load()` of its spec) and the modules only commands need are split into
// chunks loaded on first use, so `--help` and `--version` read only what they print. Every chunk
// sits flat in dist/ (src/package-files.ts resolves templates/ and the shell scripts from there).
// npm dependencies stay external: npm (or buildNpmPackage) installs them beside the package.
// Also copies the non-TypeScript assets the runtime reads (probe.sh, the health script.sh).
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(root, 'src/bin.ts')],
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Flat: chunk-HASH.js and the commands' *-run-HASH.js beside bin.js.
  chunkNames: '[name]-[hash]',
  legalComments: 'inline',
  metafile: true,
  logLevel: 'warning',
});
// What each output contains, for `npm run bench` and the package test (not shipped: see "files").
writeFileSync(join(root, 'dist', 'meta.json'), JSON.stringify(result.metafile));

function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) copyAssets(p);
    else if (/\.(sh|nix)$/.test(name)) {
      const dest = join(dist, relative(join(root, 'src'), p));
      mkdirSync(dirname(dest), { recursive: true });
      cpSync(p, dest);
    }
  }
}
copyAssets(join(root, 'src'));

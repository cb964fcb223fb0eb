#!/usr/bin/env node
// Thin launcher: the bundled CLI lives in dist/ (built by `npm run build`; `npm pack` builds it first
// through "prepack", so an installed package has it).
import { existsSync, readdirSync, statSync } from 'node:fs';
const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('bootstrap: not built yet\n  hint: run `npm run build` in the nixos-bootstrap checkout\n');
  process.exit(1);
}
// In a checkout (src/ beside dist/; a package ships no src/), a dist/ older than the source runs
// yesterday's code without a word after a `git pull`. Walking src/ costs ~2 ms of the start.
const src = new URL('../src/', import.meta.url);
if (existsSync(src) && process.env.NB_NO_STALE_CHECK !== '1') {
  const built = statSync(entry).mtimeMs;
  const newer = (dir) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = new URL(d.name + (d.isDirectory() ? '/' : ''), dir);
      if (d.isDirectory() ? newer(p) : d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') && statSync(p).mtimeMs > built) return true;
    }
    return false;
  };
  if (newer(src)) process.stderr.write('bootstrap: warning: dist/ is older than src/, so this runs the code of the last build\n  hint: run `npm run build` in the nixos-bootstrap checkout\n');
}
await import(entry.href);

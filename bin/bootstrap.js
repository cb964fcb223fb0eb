#!/usr/bin/env node
// Thin launcher: the bundled CLI lives in dist/ (built by `npm run build`; `npm pack` builds it first
// through "prepack", so an installed package has it).
import { existsSync } from 'node:fs';
const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('bootstrap: not built yet\n  hint: run `npm run build` in the nixos-bootstrap checkout\n');
  process.exit(1);
}
await import(entry.href);

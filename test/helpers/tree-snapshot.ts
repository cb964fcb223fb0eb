/**
 * A directory tree as data: every path (sorted), its type, mode and content (files) or target
 * (symlinks). Two snapshots are deepEqual exactly when the tree is byte-identical.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeEntry {
  path: string;
  mode: string;
  content?: string;
}

export function snapshotTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (rel: string) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const mode = st.mode.toString(8);
    if (st.isSymbolicLink()) out.push({ path: rel, mode, content: `-> ${readlinkSync(abs)}` });
    else if (st.isDirectory()) {
      out.push({ path: rel || '.', mode });
      for (const name of readdirSync(abs).sort()) walk(rel ? join(rel, name) : name);
    } else out.push({ path: rel, mode, content: readFileSync(abs).toString('base64') });
  };
  walk('');
  return out;
}

/**
 * Plan, then apply. Renderers return PlannedFiles and never write; `planFiles` compares them with
 * what is on disk; `applyFilePlan` is the one writer. `--dry-run` prints the plan instead.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { usageError } from '../errors.js';

export interface PlannedFile {
  /** Relative to the flake root, forward slashes. */
  path: string;
  content: string;
  /** tool: regenerated (update shown as a diff); user: written once, never overwritten. */
  owner: 'tool' | 'user';
  mode?: number;
}

export type FileAction = 'create' | 'update' | 'unchanged' | 'skip';

export interface FilePlanEntry extends PlannedFile {
  action: FileAction;
  /** Current content on disk, when the file exists. */
  existing?: string;
  reason?: string;
}

function safeRelative(path: string): string {
  const n = normalize(path);
  if (isAbsolute(n) || n.startsWith('..')) throw usageError('bad-path', `refusing to write outside the flake: ${path}`);
  return n;
}

/** Decide each file's action against the flake on disk. Reads only. */
export async function planFiles(flakeDir: string, files: PlannedFile[]): Promise<FilePlanEntry[]> {
  return Promise.all(
    files.map(async (f): Promise<FilePlanEntry> => {
      let existing: string | undefined;
      try {
        existing = await readFile(join(flakeDir, safeRelative(f.path)), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (existing === undefined) return { ...f, action: 'create' };
      if (existing === f.content) return { ...f, action: 'unchanged', existing };
      if (f.owner === 'user') return { ...f, action: 'skip', existing, reason: 'user-owned: written once, never overwritten' };
      return { ...f, action: 'update', existing };
    }),
  );
}

/** The one writer. Writes atomically (temp file + rename); skips unchanged and user-owned files. */
export async function applyFilePlan(flakeDir: string, entries: FilePlanEntry[]): Promise<string[]> {
  const written: string[] = [];
  for (const e of entries) {
    if (e.action !== 'create' && e.action !== 'update') continue;
    const dest = join(flakeDir, safeRelative(e.path));
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.bootstrap-tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    // An update keeps the file's own mode (a user's 0600 .sops.yaml stays 0600) unless the plan sets one.
    const kept = e.mode === undefined && e.action === 'update' ? await stat(dest).then((st) => st.mode & 0o7777, () => undefined) : undefined;
    await writeFile(tmp, e.content, { mode: e.mode ?? kept ?? 0o644 });
    if (kept !== undefined) await chmod(tmp, kept); // exactly the old mode, whatever the umask
    await rename(tmp, dest);
    written.push(e.path);
  }
  return written;
}

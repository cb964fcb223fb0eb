/**
 * The one writer of the flake's pinned known_hosts (.bootstrap/known_hosts). Hosts of a fleet
 * run pin keys at the same time, so the read-modify-write happens under a file lock and the new
 * file replaces the old atomically.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { withFileLock } from '../workflow/flake-lock.js';
import { buildPinnedKnownHosts, type HostKey } from './host-keys.js';
import { statePaths } from '../config/state-paths.js';

/** Pin `key` under `name` ("host" or "[host]:port"). Returns false when it was already pinned. */
export async function writePinnedKey(file: string, name: string, key: HostKey): Promise<boolean> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  return withFileLock(`${file}.lock`, async () => {
    let existing = '';
    try {
      existing = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const next = buildPinnedKnownHosts(existing, name, key);
    if (next === null) return false;
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, next, { mode: 0o644 });
    await rename(tmp, file);
    return true;
  });
}

/** FLAKE/STATEDIR/known_hosts: where pins are kept (HostKeyPolicy writes it, verify and restore read it). */
export function buildKnownHostsPath(flakeDir: string, stateDir?: string): string {
  return statePaths(flakeDir, stateDir).knownHosts;
}

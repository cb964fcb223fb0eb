/**
 * The hosts of a flake that bootstrap installed (a manifest in their host folder): `status --all`,
 * `deploy --all` and doctor's provider checks list them the same way.
 */
import { readdir, access } from 'node:fs/promises';
import { join } from 'node:path';
import { listMappedHosts } from '../../config/host-dir.js';
import type { LoadedConfig } from '../../config/load.js';
import { isHostName } from '../../host-name.js';
import { MANIFEST_FILE } from '../../manifest/manifest.js';

/** Hosts of the flake holding a manifest, sorted: folders of hostsDir, and [hosts.NAME] dir mappings. */
export async function listFlakeHosts(loaded: LoadedConfig): Promise<string[]> {
  const dir = join(loaded.flakeDir, loaded.config.hostsDir);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  // Folders named after their host, and hosts mapped elsewhere with [hosts.NAME] dir.
  const candidates = new Map<string, string>(names.filter((n) => !Object.hasOwn(loaded.config.hosts, n) && isHostName(n)).map((n) => [n, join(dir, n)]));
  for (const m of listMappedHosts(loaded.config)) candidates.set(m.host, join(loaded.flakeDir, m.dir));
  const out: string[] = [];
  for (const [n, d] of [...candidates].sort(([a], [b]) => a.localeCompare(b))) {
    try {
      await access(join(d, MANIFEST_FILE));
      out.push(n);
    } catch {
      /* a host directory without a manifest is not installed by us */
    }
  }
  return out;
}

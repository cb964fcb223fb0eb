/**
 * The hosts a fleet command (status, deploy) acts on and their manifests, read before any host is
 * reached: a misspelt host or a bad manifest is bad input and nothing is contacted.
 */
import { resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import { assertFlakeDirExists, loadConfig, type LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import { listFlakeHosts } from '../../manifest/flake-hosts.js';
import { readManifest } from '../../manifest/manifest.js';
import type { Manifest } from '../../manifest/schema.js';

export interface FleetManifests {
  flakeDir: string;
  loaded: LoadedConfig;
  hosts: string[];
  manifests: Map<string, Manifest>;
}

/** `hosts` ('all': every host with a manifest) and their manifests, read all at once. */
export async function readFleetManifests(app: Pick<AppContext, 'cwd'>, flake: string, wanted: string[] | 'all'): Promise<FleetManifests> {
  const flakeDir = resolve(app.cwd, flake);
  await assertFlakeDirExists(flakeDir);
  const loaded = await loadConfig(flakeDir);
  const hosts = wanted === 'all' ? await listFlakeHosts(loaded) : wanted;
  if (!hosts.length) throw usageError('no-hosts', `${loaded.config.hostsDir}/ of ${flakeDir} holds no host manifest`, 'install a host with `bootstrap new-host` first, or pass --flake DIR');
  // The error is the first bad host's in the order given, as if read one by one.
  const read = await Promise.allSettled(hosts.map((h) => readManifest(flakeDir, h)));
  const bad = read.find((r) => r.status === 'rejected');
  if (bad) throw bad.reason;
  const manifests = new Map<string, Manifest>(hosts.map((h, i) => [h, (read[i] as PromiseFulfilledResult<Manifest>).value]));
  return { flakeDir, loaded, hosts, manifests };
}

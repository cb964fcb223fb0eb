/**
 * Record in the host's manifest who bootstrap logs in as after the install (issue 18): the [login]
 * user when it is not root, none when it is. Written through the file plan, like the secret refs.
 */
import { join } from 'node:path';
import { hostDir } from '../../config/host-dir.js';
import { buildManifestToml, MANIFEST_FILE, readManifest } from '../../manifest/manifest.js';
import { applyFilePlan, planFiles } from '../../render/file-plan.js';
import type { InstallCtx } from './context.js';

export async function recordLoginUser(c: Pick<InstallCtx, 'flakeDir' | 'host' | 'loaded'>, user: string | undefined): Promise<void> {
  let manifest;
  try {
    manifest = await readManifest(c.flakeDir, c.host);
  } catch (e) {
    // No manifest and root logs in: nothing to record (a plan checked before `write`).
    if (user === undefined && (e as { code?: string }).code === 'no-manifest') return;
    throw e;
  }
  if (manifest.login?.user === user) return;
  const { login: _old, ...rest } = manifest;
  const path = join(hostDir(c.loaded.config, c.host), MANIFEST_FILE).split('\\').join('/');
  const entries = await planFiles(c.flakeDir, [{ path, owner: 'tool', content: buildManifestToml({ ...rest, ...(user ? { login: { user } } : {}) }) }]);
  await applyFilePlan(c.flakeDir, entries);
}

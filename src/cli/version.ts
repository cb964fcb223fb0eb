/**
 * `bootstrap --version`: the versions that matter for a bug report (issue 22): bootstrap, node,
 * the pinned nixos-anywhere and the one on PATH, and the nix found. Loaded only for --version.
 */
import { realpath } from 'node:fs/promises';
import type { Runner } from '../exec/run.js';
import { findOnPath } from '../nix/nixos-anywhere.js';
import { compareVersions, describePin, MIN_NIX_VERSION, nixosAnywhereVersionFromPath, parseNixVersion } from '../nix/pinned-installer.js';

export async function versionReport(bootstrapVersion: string, env: NodeJS.ProcessEnv, run: Runner): Promise<string> {
  const lines = [`bootstrap ${bootstrapVersion}`, `node ${process.version}`];
  const na = findOnPath('nixos-anywhere', env);
  const naVersion = na ? (nixosAnywhereVersionFromPath(await realpath(na).catch(() => na)) ?? 'version unknown') : undefined;
  lines.push(`nixos-anywhere ${describePin()} pinned; on PATH: ${na ? `${na} (${naVersion})` : 'none (runs the pinned one through nix run)'}`);
  const nix = findOnPath('nix', env);
  if (!nix) lines.push('nix not found on PATH');
  else {
    const r = await run([nix, '--version'], { check: false, timeoutMs: 5_000 }).catch(() => undefined);
    const v = r ? parseNixVersion(r.stdout + r.stderr) : undefined;
    const tooOld = v !== undefined && compareVersions(v, MIN_NIX_VERSION) < 0;
    lines.push(`nix ${v ?? '(version unknown)'} (${nix})${tooOld ? `: older than ${MIN_NIX_VERSION}, which nixos-anywhere needs` : ''}`);
  }
  return lines.join('\n');
}

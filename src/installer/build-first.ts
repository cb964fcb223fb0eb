/**
 * Build first: the host's system closure and disko script are built (or, with --build-on remote,
 * evaluated) before anything touches the target, the same attributes nixos-anywhere would build,
 * so an evaluation or build error stops the run with the disk untouched. The installer call then
 * gets --store-paths and builds nothing. Also what preflight asks nix about the flake: the
 * evaluated config must use the planned disks. Argv builders and parsers here are pure.
 */
import { failure } from '../errors.js';

export const NIX_FLAKES = ['--extra-experimental-features', 'nix-command flakes'] as const;

/** `FLAKE#nixosConfigurations."HOST".config.PATH`, the form nixos-anywhere itself uses. */
export function buildConfigAttr(flake: string, host: string, path: string): string {
  return `${flake}#nixosConfigurations."${host}".config.${path}`;
}

export function buildDiskoAttrName(noDiskoDeps: boolean | undefined): string {
  return noDiskoDeps ? 'diskoScriptNoDeps' : 'diskoScript';
}

/** `nix build --json` of the disko script and the toplevel, in that order. */
export function buildSystemBuildArgv(flake: string, host: string, o: { noDiskoDeps?: boolean; nixOptions?: Record<string, string> } = {}): string[] {
  return [
    'nix', ...NIX_FLAKES, 'build', '--no-link', '--json', ...nixOptionArgs(o.nixOptions),
    buildConfigAttr(flake, host, `system.build.${buildDiskoAttrName(o.noDiskoDeps)}`),
    buildConfigAttr(flake, host, 'system.build.toplevel'),
  ];
}

/** --build-on remote: evaluate both derivations here (errors surface now), build them there. */
export function buildEvalDrvArgv(flake: string, host: string, o: { noDiskoDeps?: boolean } = {}): string[] {
  return [
    'nix', ...NIX_FLAKES, 'eval', '--json', buildConfigAttr(flake, host, 'system.build'),
    '--apply', `b: { toplevel = b.toplevel.drvPath; disko = b.${buildDiskoAttrName(o.noDiskoDeps)}.drvPath; }`,
  ];
}

/** The disks of the evaluated config: `{ main = "/dev/disk/by-id/…"; }`. */
export function buildDiskoDevicesArgv(flake: string, host: string): string[] {
  return ['nix', ...NIX_FLAKES, 'eval', '--json', buildConfigAttr(flake, host, 'disko.devices.disk'), '--apply', 'builtins.mapAttrs (_: d: d.device)'];
}

function nixOptionArgs(o: Record<string, string> | undefined): string[] {
  return Object.entries(o ?? {}).flatMap(([k, v]) => ['--option', k, v]);
}

export interface BuiltPaths {
  disko: string;
  toplevel: string;
}

const STORE_PATH_RE = /^\/[^\s]+$/;

/** `nix build --json` output → the two out paths. */
export function parseBuildJson(stdout: string): BuiltPaths {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw failure('build-output', 'nix build printed no JSON', 'run the build by hand with --json to see why');
  }
  const outs = Array.isArray(parsed) ? parsed.map((r) => (r as { outputs?: { out?: unknown } })?.outputs?.out) : [];
  const [disko, toplevel] = outs;
  if (outs.length !== 2 || typeof disko !== 'string' || typeof toplevel !== 'string' || !STORE_PATH_RE.test(disko) || !STORE_PATH_RE.test(toplevel)) {
    throw failure('build-output', 'nix build did not report the two store paths it built', 'run the build by hand with --json to see why');
  }
  return { disko, toplevel };
}

/** The evaluated disks as a name → device map; null when nix printed something else. */
export function parseDiskoDevices(stdout: string): Record<string, string> | null {
  try {
    const v = JSON.parse(stdout) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
    const out: Record<string, string> = {};
    for (const [k, d] of Object.entries(v)) {
      if (typeof d !== 'string') return null;
      out[k] = d;
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * Does the evaluated config wipe exactly the planned disks? Returns what differs, or null. Pure.
 * Compared as sets of device paths: the disk names are the layout's business.
 */
export function compareDiskoDisks(evaluated: Record<string, string>, planned: readonly string[]): string | null {
  const got = [...new Set(Object.values(evaluated))].sort();
  const want = [...new Set(planned)].sort();
  if (got.length === want.length && got.every((d, i) => d === want[i])) return null;
  const extra = got.filter((d) => !want.includes(d));
  const missing = want.filter((d) => !got.includes(d));
  return [extra.length ? `it would format ${extra.join(', ')}` : '', missing.length ? `it does not use ${missing.join(', ')}` : ''].filter(Boolean).join('; ');
}

/**
 * The nixos-anywhere this tool is tested with (issue 20): one revision, used by `nix run` when
 * nixos-anywhere is not on PATH, by the flake's input (flake.nix; a test checks they agree), and
 * shown by `bootstrap --version` and doctor. The tests run the real nixos-anywhere.sh of exactly
 * this revision (../shared/nix-src/nixos-anywhere). Upstream main moves (the kexec image, flag
 * parsing): never run it unpinned.
 */

export const NIXOS_ANYWHERE_PIN = {
  rev: '91fc9b70fc295258c366cce8627efb6f185fd9fb',
  /** `git describe` of the revision: 98 commits after the 1.13.0 tag. */
  describe: '1.13.0-98-g91fc9b7',
  /** The package version at that revision (src/default.nix), the one in its store path's name. */
  version: '1.13.0',
} as const;

/** The flake reference `nix run` uses. */
export const NIXOS_ANYWHERE_FLAKE = `github:nix-community/nixos-anywhere/${NIXOS_ANYWHERE_PIN.rev}`;

/**
 * The oldest nix nixos-anywhere works with: its package pins nix ≥ 2.16 because nix-copy-closure
 * hangs when ssh has a ControlPath (NixOS/nix#8480). Debian's nix-bin is 2.8.
 */
export const MIN_NIX_VERSION = '2.16';

/** "nix (Nix) 2.8.0" → "2.8.0"; undefined when no version is in the text. Pure. */
export function parseNixVersion(text: string): string | undefined {
  return /\b(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
}

/** Compare dotted versions numerically ("2.16" > "2.8"); a missing part counts as 0. Pure. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The version in a nixos-anywhere store path (the real path of the binary on PATH:
 * /nix/store/HASH-nixos-anywhere-1.13.0/bin/nixos-anywhere); undefined outside the store, where
 * nothing says which version it is (the script has no --version). Pure.
 */
export function nixosAnywhereVersionFromPath(realPath: string): string | undefined {
  return /\/nix\/store\/[a-z0-9]{32}-nixos-anywhere-(\d[^/]*)\//.exec(realPath)?.[1];
}

/** The pinned revision as people read it: "1.13.0-98-g91fc9b7 (91fc9b70fc29…)". */
export function describePin(): string {
  return `${NIXOS_ANYWHERE_PIN.describe} (github:nix-community/nixos-anywhere/${NIXOS_ANYWHERE_PIN.rev.slice(0, 12)})`;
}

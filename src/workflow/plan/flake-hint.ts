/**
 * The exact lines to add when flake.nix does not pick up hosts/HOST (decided by evaluating the
 * flake: flake-pickup.ts). We never edit flake.nix: it is the user's, and its shape varies too
 * much to patch safely.
 */
import { nixString } from '../../nix/serialize.js';

/** The lines to add to flake.nix's outputs (and inputs, when disko is missing). */
export function buildFlakeHint(flakeText: string, hostsDir: string, host: string, mappedDir?: string): string[] {
  const dir = mappedDir ?? `${hostsDir.replace(/^\.\//, '').replace(/\/+$/, '')}/${host}`;
  const lines: string[] = [];
  if (!/\bdisko\b/.test(flakeText)) {
    lines.push(
      '# in inputs:',
      'disko.url = "github:nix-community/disko";',
      'disko.inputs.nixpkgs.follows = "nixpkgs";',
      '',
    );
  }
  lines.push(
    '# in outputs (the function must take `inputs@{ nixpkgs, disko, ... }`):',
    `nixosConfigurations.${/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(host) ? host : nixString(host)} = nixpkgs.lib.nixosSystem {`,
    '  specialArgs = { inherit inputs; };',
    '  modules = [',
    '    disko.nixosModules.disko',
    `    ./${dir}`,
    '  ];',
    '};',
  );
  return lines;
}

/**
 * Whether the flake's flake.nix already picks up hosts/HOST, and if not, the exact lines to add.
 * We never edit flake.nix: it is the user's, and its shape varies too much to patch safely.
 */
import { nixString } from '../../nix/serialize.js';

/**
 * A flake picks up the host when it names the host directory, or reads the hosts directory
 * generically with builtins.readDir.
 */
export function isHostPickedUp(flakeText: string, hostsDir: string, host: string, mappedDir?: string): boolean {
  const dir = hostsDir.replace(/^\.\//, '').replace(/\/+$/, '');
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const own = mappedDir ?? `${dir}/${host}`;
  const hostPath = new RegExp(`(^|[^A-Za-z0-9_-])(\\./)?${esc(own)}(/|[^A-Za-z0-9_-]|$)`, 'm');
  // A host in a folder of another name ([hosts.NAME] dir) is not found by a readDir of hostsDir.
  if (mappedDir !== undefined && mappedDir !== `${dir}/${host}`) return hostPath.test(flakeText);
  // `builtins.readDir ./hosts` or `readDir (self + "/hosts")`: every host directory is imported.
  const generic = new RegExp(`readDir[^\\n]*[/"]${esc(dir)}(?![A-Za-z0-9_-])`, 'm');
  return hostPath.test(flakeText) || generic.test(flakeText);
}

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

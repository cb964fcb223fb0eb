# FAKE flake evaluation (test/fakes/nixos) for test/fakes/nix: the outputs of DIR/flake.nix as nix
# would compute them, with its inputs stubbed (this machine has no network and no nixpkgs):
# nixpkgs is nixpkgs' REAL lib with the fake nixosSystem of ./default.nix; every other input
# offers empty nixosModules under the usual names (default, disko, sops, opnix, agenix,
# home-manager); `self` is the outputs plus outPath = DIR. Relative paths in flake.nix resolve
# against DIR, as they do against the flake's store copy.
{ dir, libPath }:
let
  lib = import libPath;
  flake = import (dir + "/flake.nix");
  nixpkgs = { lib = lib // { nixosSystem = import ./. { inherit lib; }; }; outPath = "/fake-inputs/nixpkgs"; };
  stub = name: {
    nixosModules = lib.genAttrs [ "default" "disko" "sops" "opnix" "agenix" "home-manager" ] (_: { });
    outPath = "/fake-inputs/${name}";
  };
  inputs = lib.genAttrs (builtins.attrNames (flake.inputs or { })) stub // { inherit nixpkgs self; };
  self = outputs // { outPath = dir; inherit inputs; };
  outputs = flake.outputs inputs;
in
outputs

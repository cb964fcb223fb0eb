# FAKE `nixpkgs.lib.nixosSystem` (test/fakes/nixos) for evaluations without nixpkgs: the REAL
# `lib.evalModules` of nixpkgs' lib over options.nix (a typed slice of NixOS, the rest freeform) and
# the given modules. `pkgs` is a stub whose packages are names; modulesPath holds the few NixOS
# files rendered hardware.nix imports. Its result has what a real one has that we read: config,
# options and graph (the imported modules, nixpkgs lib >= 25.05).
{ lib }:
{ modules, specialArgs ? { }, ... }:
lib.evalModules {
  modules = [ ./options.nix { _module.args.pkgs = builtins.mapAttrs (n: _: "<package ${n}>") (builtins.listToAttrs (map (n: { name = n; value = null; }) [ "git" "vim" "htop" "curl" ])); } ] ++ modules;
  specialArgs = { modulesPath = toString ./modules; } // specialArgs;
}

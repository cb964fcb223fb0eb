# Evaluate a rendered disko.nix with the real disko module system (no nixpkgs needed beyond lib),
# and reduce the result to what a test can assert: the NixOS settings disko derives (fileSystems,
# GRUB devices, LUKS devices, swap, resume device, swraid) and the format/mount scripts.
# Used by test/render/disko-upstream.integration.test.ts when disko and nixpkgs-lib checkouts exist.
{ file, diskoSrc, nixpkgsLib }:
let
  lib = import nixpkgsLib;
  diskoLib = import (diskoSrc + "/lib") {
    inherit lib;
    makeTest = null;
    eval-config = null;
    qemu-common = null;
  };
  cfg = import file;
  devices =
    (lib.evalModules {
      modules = [
        {
          imports = [ { disko.devices = cfg.disko.devices; } ];
          options.disko.devices = lib.mkOption { type = diskoLib.toplevel; };
        }
      ];
    }).config.disko.devices;
  # disko's NixOS fragments use mkIf/mkMerge: merge them with the module system, lists concatenated.
  listPaths = [
    [ "swapDevices" ]
    [ "boot" "loader" "grub" "devices" ]
    [ "boot" "initrd" "availableKernelModules" ]
    [ "boot" "initrd" "kernelModules" ]
    [ "environment" "systemPackages" ]
  ];
  listOption = lib.mkOption {
    type = lib.types.listOf lib.types.anything;
    default = [ ];
  };
  nixos =
    (lib.evalModules {
      modules = [
        {
          freeformType = with lib.types; attrsOf anything;
          options = lib.foldl' lib.recursiveUpdate { } (map (p: lib.setAttrByPath p listOption) listPaths);
        }
      ]
      ++ lib.flatten devices._config;
    }).config;
in
{
  fileSystems = lib.mapAttrs (_: fs: {
    inherit (fs) device fsType;
    options = fs.options or [ ];
  }) (nixos.fileSystems or { });
  grubDevices = nixos.boot.loader.grub.devices;
  luks = lib.mapAttrs (_: v: {
    inherit (v) device;
    allowDiscards = v.allowDiscards or false;
  }) (nixos.boot.initrd.luks.devices or { });
  swap = map (s: {
    inherit (s) device;
    randomEncryption = s.randomEncryption.enable or false;
  }) nixos.swapDevices;
  resumeDevice = nixos.boot.resumeDevice or null;
  swraid = nixos.boot.swraid.enable or false;
  create = devices._create;
  mount = devices._mount;
}

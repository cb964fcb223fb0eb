# Evaluate our flake.nix's outputs without nixpkgs or network (test/nix/flake.integration.test.ts).
#
# Real: nixpkgs' lib (../shared/nix-src/nixpkgs-lib), nixpkgs' importNpmLock and buildNpmPackage
# (test/fixtures/nixpkgs-npm, see its ORIGIN.md), nixos-anywhere's own src/default.nix at the pinned
# revision (../shared/nix-src/nixos-anywhere), our flake.nix, package.json and package-lock.json.
# STAND-INS, only for what needs a store or a network: stdenv.mkDerivation and runCommand (they
# record their arguments and name a store path instead of building), fetchurl (a store path named
# after the URL, keeping the hash it was given), makeSetupHook/srcOnly (built hooks), and the
# leaf packages (age, nix, openssh, …: a name, a version, a store path).
{
  flakeDir,
  nixpkgsLib,
  npmHelpers,
  nixosAnywhereSrc,
  system ? "x86_64-linux",
}:
let
  lib = import nixpkgsLib;

  storePath = name: "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" name)}-${name}";

  # STAND-IN for stdenv.mkDerivation: takes what the real one takes (an attribute set or a
  # finalAttrs function) and returns it with the derivation's name and output path.
  mkDerivation =
    argsOrFn:
    let
      args = if builtins.isFunction argsOrFn then lib.fix argsOrFn else argsOrFn;
      name = args.name or "${args.pname}-${args.version}";
    in
    args
    // {
      inherit name;
      type = "derivation";
      outPath = storePath name;
      drvAttrs = args;
    };

  leaf =
    pname: version: extra:
    mkDerivation ({ inherit pname version; } // extra);

  # STAND-IN for fetchurl (network). Strict where the real one is: a fixed-output fetch needs
  # the content's hash (here the lock's SRI integrity).
  fetchurl =
    { url, hash ? null, ... }:
    if hash == null || builtins.match "sha(256|384|512)-.+" hash == null then
      throw "fetchurl ${url}: no SRI hash (the lock entry has no integrity)"
    else
      {
        outPath = storePath (baseNameOf url);
        inherit url hash;
      };

  hook = name: leaf name "0" { };

  pkgs = lib.fix (self: {
    inherit lib fetchurl;
    stdenv = {
      inherit mkDerivation;
      hostPlatform = {
        inherit system;
        isDarwin = false;
        isLinux = true;
      };
    };
    callPackage =
      fn: args:
      let
        f = if builtins.isFunction fn then fn else import fn;
      in
      f (builtins.intersectAttrs (lib.functionArgs f) self // args);
    callPackages = self.callPackage;
    runCommand =
      name: env: script:
      mkDerivation (env // { inherit name; buildCommand = script; });
    makeSetupHook = attrs: script: mkDerivation (attrs // { standInFor = "makeSetupHook"; });
    srcOnly = drv: storePath "${drv.name}-source";
    fetchNpmDeps = _: throw "fetchNpmDeps was called: npmDeps must come from importNpmLock";
    buildPackages.npmHooks.override = _: {
      npmConfigHook = hook "npm-config-hook-default";
      npmBuildHook = hook "npm-build-hook";
      npmInstallHook = hook "npm-install-hook";
    };
    cctools = leaf "cctools" "0" { };
    nodejs = leaf "nodejs" "22.12.0" {
      python = leaf "python3" "3.12.8" { };
      meta = {
        platforms = lib.platforms.all;
        mainProgram = "node";
      };
    };
    makeWrapper = hook "make-shell-wrapper-hook";
    mkShell = args: mkDerivation ({ name = "nix-shell"; } // args);
    mkShellNoCC = args: mkDerivation ({ name = "nix-shell"; } // args);

    # The real helpers.
    importNpmLock = self.callPackage (npmHelpers + "/import-npm-lock") { };
    buildNpmPackage = self.callPackage (npmHelpers + "/build-npm-package") { };

    age = leaf "age" "1.2.1" { };
    sops = leaf "sops" "3.9.4" { };
    restic = leaf "restic" "0.17.3" { };
    sshpass = leaf "sshpass" "1.10" { };
    nix = leaf "nix" "2.24.11" { };
    nixVersions.nix_2_16 = leaf "nix" "2.16.2" { };
    openssh = leaf "openssh" "9.9p1" { };
    gitMinimal = leaf "git-minimal" "2.47.1" { };
    coreutils = leaf "coreutils" "9.5" { };
    curl = leaf "curl" "8.11.1" { };
    gnugrep = leaf "gnugrep" "3.11" { };
    gnutar = leaf "gnutar" "1.35" { };
    gawk = leaf "gawk" "5.3.1" { };
    findutils = leaf "findutils" "4.10.0" { };
    gnused = leaf "gnused" "4.9" { };
    terraform-docs = leaf "terraform-docs" "0.19.0" { };
    jq = leaf "jq" "1.7.1" { };
    git = leaf "git" "2.47.1" { };
    openssl = leaf "openssl" "3.3.2" { };
    cpio = leaf "cpio" "2.15" { };
    tmux = leaf "tmux" "3.5a" { };
    fish = leaf "fish" "3.7.1" { };
    bash-completion = leaf "bash-completion" "2.14.0" { };
    iproute2 = leaf "iproute2" "6.12.0" { };
    util-linux = leaf "util-linux" "2.40.2" { };
    pciutils = leaf "pciutils" "3.13.0" { };
    busybox = leaf "busybox" "1.36.1" { };
  });

  nixpkgs = {
    inherit lib;
    legacyPackages.${system} = pkgs;
    outPath = storePath "nixpkgs-source";
  };
  # The pinned input's source tree, as the flake would get it from github:…/REV.
  nixos-anywhere = {
    outPath = toString nixosAnywhereSrc;
  };

  flake = import (flakeDir + "/flake.nix");
  outputs = flake.outputs {
    self = outputs // {
      outPath = toString flakeDir;
    };
    inherit nixpkgs nixos-anywhere;
  };

  pkg = outputs.packages.${system}.default;
  na = pkg.passthru.nixos-anywhere;
  check = outputs.checks.${system}.unit-tests;
in
{
  inputs = flake.inputs;
  package = {
    inherit (pkg) name pname version postFixup npmPackFlags strictDeps;
    storePath = pkg.outPath;
    license = pkg.meta.license.spdxId;
    mainProgram = pkg.meta.mainProgram;
    nativeBuildInputs = map (d: d.name) pkg.nativeBuildInputs;
    src = toString pkg.src;
    npmDeps = {
      inherit (pkg.npmDeps) name buildCommand;
      package = builtins.fromJSON pkg.npmDeps.package;
      packageLock = builtins.fromJSON pkg.npmDeps.packageLock;
    };
  };
  nixosAnywhere = {
    inherit (na) name version installPhase;
    storePath = na.outPath;
    src = toString na.src;
  };
  app = outputs.apps.${system}.default;
  devShell = map (d: d.name) outputs.devShells.${system}.default.packages;
  check = {
    inherit (check) name checkPhase doCheck;
    nativeCheckInputs = map (d: d.name) check.nativeCheckInputs;
    sameDeps = check.npmDeps.outPath == pkg.npmDeps.outPath;
  };
  systems = builtins.attrNames outputs.packages;
}

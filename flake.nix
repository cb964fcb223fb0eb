{
  description = "nixos-bootstrap: take a bare machine to an installed NixOS host of your flake";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    # The nixos-anywhere the tests run, at the revision of src/nix/pinned-installer.ts (a test keeps
    # the two equal). Its source only: its package is built with our nixpkgs (src/default.nix of
    # that revision), and its own flake inputs (test VMs, formatter) stay out of our lock.
    nixos-anywhere = {
      url = "github:nix-community/nixos-anywhere/91fc9b70fc295258c366cce8627efb6f185fd9fb";
      flake = false;
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      nixos-anywhere,
    }:
    let
      lib = nixpkgs.lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      version = (lib.importJSON ./package.json).version;

      # nixos-anywhere needs nix >= 2.16 (NixOS/nix#8480); its own package insists on it too.
      nixFor =
        pkgs:
        assert lib.versionAtLeast pkgs.nix.version "2.16";
        pkgs.nix;
      nixosAnywhereFor = pkgs: pkgs.callPackage "${nixos-anywhere}/src" { };

      # What bootstrap runs: first on its PATH. OpenSSH goes last (a suffix), so the user's own
      # ssh, with its config and agent, wins, as nixos-anywhere does it.
      runtimeToolsFor = pkgs: [
        pkgs.age
        pkgs.sops
        pkgs.restic
        pkgs.sshpass
        (nixFor pkgs)
        (nixosAnywhereFor pkgs)
      ];

      # Shared by the package and the check: the sources and the npm dependencies, read from
      # package-lock.json by importNpmLock (no dependency hash to keep in sync).
      npmArgsFor = pkgs: {
        inherit version;
        src = ./.;
        npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
        npmConfigHook = pkgs.importNpmLock.npmConfigHook;
        nodejs = pkgs.nodejs;
      };

      packageFor =
        pkgs:
        pkgs.buildNpmPackage (
          npmArgsFor pkgs
          // {
            pname = "nixos-bootstrap";
            # `npm run build` (the default build script) bundles dist/; the install hook then
            # copies what package.json "files" lists and prunes devDependencies (esbuild,
            # typescript, tsx), so build-only inputs stay out of the closure. The bundle is built
            # already: no prepack again.
            npmPackFlags = [ "--ignore-scripts" ];
            nativeBuildInputs = [ pkgs.makeWrapper ];
            postFixup = ''
              wrapProgram $out/bin/bootstrap \
                --prefix PATH : ${lib.makeBinPath (runtimeToolsFor pkgs)} \
                --suffix PATH : ${lib.makeBinPath [ pkgs.openssh ]}
            '';
            passthru.nixos-anywhere = nixosAnywhereFor pkgs;
            meta = {
              description = "Take a bare machine to an installed NixOS host of your flake";
              license = lib.licenses.mit;
              mainProgram = "bootstrap";
            };
          }
        );

      # What the test suite calls besides node (see .ci/run's need list).
      testToolsFor =
        pkgs:
        runtimeToolsFor pkgs
        ++ [
          pkgs.openssh
          pkgs.jq
          pkgs.git
          pkgs.openssl
          pkgs.cpio
          pkgs.tmux
          pkgs.fish
          pkgs.bash-completion
        ]
        ++ lib.optionals pkgs.stdenv.hostPlatform.isLinux [
          pkgs.iproute2
          pkgs.util-linux
          pkgs.pciutils
          pkgs.busybox
        ];
    in
    {
      packages = forAllSystems (pkgs: {
        default = packageFor pkgs;
        nixos-bootstrap = packageFor pkgs;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.default}/bin/bootstrap";
          meta.description = "bootstrap: install NixOS hosts of your flake";
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.nodejs ] ++ testToolsFor pkgs;
        };
      });

      # The unit tests (src/**/*.test.ts) in the build sandbox; the integration and namespace
      # tests need root, network namespaces and sshd, and run through `bash .ci/run`.
      checks = forAllSystems (pkgs: {
        unit-tests = pkgs.buildNpmPackage (
          npmArgsFor pkgs
          // {
            pname = "nixos-bootstrap-unit-tests";
            dontNpmBuild = true;
            doCheck = true;
            nativeCheckInputs = testToolsFor pkgs;
            checkPhase = ''
              runHook preCheck
              npm test -- src/
              runHook postCheck
            '';
            installPhase = ''
              touch $out
            '';
          }
        );
      });
    };
}

# Evaluate the real agenix / sops-nix NixOS modules (../shared/nix-src) with nixpkgs' lib.evalModules and
# small stubs for the parts of NixOS they read, and return what a host built from them carries:
# the activation script text, the systemd units they add, and the files they write to the store
# (sops-nix's manifest JSON, agenix's install script). test/health/secrets-host.ts lays it out.
{ libPath, modules, configJSON }:
let
  lib = import libPath;
  inherit (lib) mkOption types;
  # A store path for a text: a 32-character name from its hash, as the store would give.
  storePath = name: text: "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" (name + text))}-${name}";
  files = { name, text, ... }: { outPath = storePath name text; inherit name text; };
  pkgs = {
    age = storePath "age-1.2.1" "";
    rage = storePath "rage-0.10.0" "";
    mount = storePath "util-linux-2.40-mount" "";
    runtimeShell = "${storePath "bash-5.2p37" ""}/bin/bash";
    writeTextFile = files;
    writeText = name: text: files { inherit name text; };
    writeShellScript = name: text: files { inherit name; text = "#!${pkgs.runtimeShell}\n" + text; };
    callPackage = fn: args: import fn ({ inherit lib; } // args);
  };
  # The NixOS options these modules set or read (their real types are wider; these hold what they use).
  stubs = { ... }: {
    options = {
      assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      warnings = mkOption { type = types.listOf types.str; default = [ ]; };
      system.activationScripts = mkOption {
        type = types.attrsOf (types.submodule {
          options.text = mkOption { type = types.lines; default = ""; };
          options.deps = mkOption { type = types.listOf types.str; default = [ ]; };
          options.supportsDryActivation = mkOption { type = types.bool; default = false; };
        });
        default = { };
      };
      system.build = mkOption { type = types.attrsOf types.unspecified; default = { }; };
      systemd.services = mkOption { type = types.attrsOf types.anything; default = { }; };
      systemd.sysusers.enable = mkOption { type = types.bool; default = false; };
      services.userborn.enable = mkOption { type = types.bool; default = false; };
      services.openssh.enable = mkOption { type = types.bool; default = false; };
      services.openssh.hostKeys = mkOption { type = types.listOf types.anything; default = [ ]; };
      users.users = mkOption { type = types.attrsOf types.anything; default = { }; };
      users.groups = mkOption { type = types.attrsOf types.anything; default = { }; };
      users.mutableUsers = mkOption { type = types.bool; default = true; };
      environment = mkOption { type = types.attrsOf types.anything; default = { }; };
    };
    # The NixOS snippets these depend on (nixpkgs' own, not evaluated here): placeholders in their place.
    config.system.activationScripts = lib.genAttrs [ "specialfs" "users" "groups" ] (n: { text = "# (NixOS ${n})"; });
  };
  eval = lib.evalModules {
    modules = [ stubs (builtins.fromJSON configJSON) ] ++ map import modules;
    specialArgs = { inherit pkgs; };
  };
  cfg = eval.config;
  failed = lib.filter (a: !a.assertion) cfg.assertions;
  # nixpkgs nixos/modules/system/activation/activation-script.nix joins the snippets in dependency
  # order (lib.stringsWithDeps.textClosureMap), each under a "#### Activation script snippet" headline,
  # and ends by linking /run/current-system. That file is not in nix-src; this is its shape.
  snippets = lib.mapAttrs (key: s: s // {
    text = ''
      #### Activation script snippet ${key}:
      _localstatus=0
      ${s.text}

      if (( _localstatus > 0 )); then
        printf "Activation script snippet '%s' failed (%s)\n" "${key}" "$_localstatus"
      fi
    '';
  }) cfg.system.activationScripts;
  activate = ''
    #!${pkgs.runtimeShell}
    systemConfig='@out@'
    _status=0
    trap "_status=1 _localstatus=\$?" ERR
    umask 0022
    ${lib.textClosureMap lib.id snippets (lib.attrNames snippets)}
    ln -sfn "$(readlink -f "$systemConfig")" /run/current-system
    exit $_status
  '';
  sopsManifest = cfg.system.build.sops-nix-manifest or null;
  unitFiles = lib.mapAttrs (_: u: {
    execStart = let e = u.serviceConfig.ExecStart or null; in
      if e == null then null else if builtins.isList e then map toString e else toString e;
    script = let e = u.serviceConfig.ExecStart or null; in if e != null && !builtins.isList e && e ? text then e.text else null;
  }) cfg.systemd.services;
in
if failed != [ ] then throw (lib.concatMapStringsSep "\n" (a: a.message) failed) else {
  inherit activate;
  units = unitFiles;
  manifest = if sopsManifest == null then null else { path = sopsManifest.outPath; text = sopsManifest.text; };
  secretsForUsersManifest = let m = cfg.system.build.sops-nix-users-manifest or null; in if m == null then null else { path = m.outPath; text = m.text; };
}

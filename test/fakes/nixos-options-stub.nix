# FAKE NixOS module system for test/fakes/nix (Debian's nix here has no nixpkgs): the REAL
# lib.evalModules of nixpkgs' lib (NB_NIXPKGS_LIB) over the host's default.nix and its imports,
# with the few NixOS options the lock-out guard reads declared here with NixOS's own types and
# defaults (nixos/modules/services/networking/ssh/sshd.nix: enable false, ports [ 22 ],
# openFirewall true, settings.PermitRootLogin "prohibit-password"; services/networking/firewall.nix:
# enable true, allowedTCPPorts/allowedTCPPortRanges/interfaces/trustedInterfaces empty;
# services/networking/tailscale.nix: enable false, authKeyFile null, interfaceName "tailscale0").
# users.users.<name>.openssh.authorizedKeys (keys, keyFiles: [ ]) likewise.
# Every other setting is freeform, so users' modules evaluate as written. NixOS's merge of
# openFirewall into networking.firewall.allowedTCPPorts is not done here: the guard reads both.
{ file, libPath, modulesPath }:
let
  lib = import libPath;
  inherit (lib) mkOption types;
  free = types.lazyAttrsOf types.anything;
  sub = options: mkOption { type = types.submodule { freeformType = free; inherit options; }; default = { }; };
  opt = type: default: mkOption { inherit type default; };
  range = types.submodule { options = { from = opt types.port 0; to = opt types.port 0; }; };
  tcp = {
    allowedTCPPorts = opt (types.listOf types.port) [ ];
    allowedTCPPortRanges = opt (types.listOf range) [ ];
  };
  stub = {
    _file = "test/fakes/nixos-options-stub.nix";
    freeformType = free;
    options = {
      services = sub {
        openssh = sub {
          enable = opt types.bool false;
          ports = opt (types.listOf types.port) [ 22 ];
          openFirewall = opt types.bool true;
          settings = sub { PermitRootLogin = opt (types.enum [ "yes" "without-password" "prohibit-password" "forced-commands-only" "no" ]) "prohibit-password"; };
        };
        tailscale = sub {
          enable = opt types.bool false;
          authKeyFile = opt (types.nullOr types.path) null;
          interfaceName = opt types.str "tailscale0";
        };
      };
      users = sub {
        users = opt (types.attrsOf (types.submodule {
          freeformType = free;
          options.openssh = sub { authorizedKeys = sub { keys = opt (types.listOf types.str) [ ]; keyFiles = opt (types.listOf types.path) [ ]; }; };
        })) { };
      };
      networking = sub {
        firewall = sub (tcp // {
          enable = opt types.bool true;
          trustedInterfaces = opt (types.listOf types.str) [ ];
          interfaces = opt (types.attrsOf (types.submodule { options = tcp; })) { };
        });
      };
    };
  };
in
(lib.evalModules {
  specialArgs = { inherit modulesPath; inputs = { }; };
  # `file`: the host's default.nix, or a list of modules (the flake's configuration.nix first).
  modules = [ stub ] ++ (if builtins.isList file then file else [ file ]) ++ [ { _module.args.pkgs = { }; } ];
}).config

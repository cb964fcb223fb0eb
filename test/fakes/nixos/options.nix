# FAKE slice of NixOS (test/fakes/nixos): the options bootstrap renders into a host's default.nix or
# checks at preflight, declared with the types and defaults nixpkgs gives them (nixos/modules/
# system/etc, config/networking.nix, services/networking/ssh/sshd.nix, system/boot/loader/*,
# config/users-groups.nix), so the real module system of nixpkgs' lib (shared/nix-src/nixpkgs-lib)
# merges and rejects definitions as it does for a real host. Every other option is freeform
# (`anything`: attribute sets merge, other values must be equal), so a user's module may set it.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  opt = type: default: mkOption { inherit type default; };
  # A namespace of options whose other attributes are freeform too (services.foo, boot.kernelModules, …).
  ns = options: mkOption { default = { }; type = types.submodule { freeformType = types.lazyAttrsOf types.anything; inherit options; }; };
in
{
  freeformType = types.lazyAttrsOf types.anything;
  options = {
    system = ns { stateVersion = opt types.str "25.11"; };
    networking = ns { hostName = opt (types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$") "nixos"; };
    services = ns {
      openssh = ns {
        enable = opt types.bool false;
        ports = opt (types.listOf types.port) [ 22 ];
        openFirewall = opt types.bool true;
        settings = mkOption {
          default = { };
          type = types.submodule {
            freeformType = types.attrsOf (types.nullOr (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
            options = {
              PermitRootLogin = opt (types.enum [ "yes" "without-password" "prohibit-password" "forced-commands-only" "no" ]) "prohibit-password";
              PasswordAuthentication = opt types.bool true;
              KbdInteractiveAuthentication = opt types.bool true;
            };
          };
        };
      };
    };
    boot = ns {
      loader = ns {
        grub = ns {
          enable = opt types.bool true;
          devices = opt (types.listOf types.str) [ ];
          efiSupport = opt types.bool false;
          efiInstallAsRemovable = opt types.bool false;
        };
        systemd-boot = ns { enable = opt types.bool false; };
        efi = ns { canTouchEfiVariables = opt types.bool false; };
      };
    };
    users = ns {
      users = mkOption {
        default = { };
        type = types.attrsOf (types.submodule {
          freeformType = types.lazyAttrsOf types.anything;
          options = {
            isNormalUser = opt types.bool false;
            extraGroups = opt (types.listOf types.str) [ ];
            openssh = ns {
              authorizedKeys = ns {
                keys = opt (types.listOf types.singleLineStr) [ ];
                keyFiles = opt (types.listOf types.path) [ ];
              };
            };
          };
        });
      };
    };
  };
}

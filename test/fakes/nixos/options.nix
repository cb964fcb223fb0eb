# FAKE slice of NixOS (test/fakes/nixos): the options bootstrap renders into a host's default.nix or
# checks at preflight, declared with the types and defaults nixpkgs gives them (nixos/modules/
# system/etc, config/networking.nix, services/networking/ssh/sshd.nix, system/boot/loader/*,
# config/users-groups.nix), so the real module system of nixpkgs' lib (shared/nix-src/nixpkgs-lib)
# merges and rejects definitions as it does for a real host. Every other option is freeform
# (`anything`: attribute sets merge, other values must be equal), so a user's module may set it.
{ lib, config, ... }:
let
  inherit (lib) mkOption types;
  opt = type: default: mkOption { inherit type default; };
  # sshd_config's user and group lists (settings.AllowUsers etc.): unset is null, as in sshd.nix.
  nullList = opt (types.nullOr (types.listOf types.str)) null;
  tcp = {
    allowedTCPPorts = opt (types.listOf types.port) [ ];
    allowedTCPPortRanges = opt (types.listOf (types.submodule { options = { from = opt types.port 0; to = opt types.port 0; }; })) [ ];
  };
  sudo = enable: ns { enable = opt types.bool enable; wheelNeedsPassword = opt types.bool true; extraRules = opt (types.listOf types.anything) [ ]; };
  # A namespace of options whose other attributes are freeform too (services.foo, boot.kernelModules, …).
  ns = options: mkOption { default = { }; type = types.submodule { freeformType = types.lazyAttrsOf types.anything; inherit options; }; };
in
{
  freeformType = types.lazyAttrsOf types.anything;
  options = {
    system = ns { stateVersion = opt types.str "25.11"; };
    networking = ns {
      hostName = opt (types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$") "nixos";
      firewall = ns (tcp // {
        enable = opt types.bool true;
        trustedInterfaces = opt (types.listOf types.str) [ ];
        interfaces = opt (types.attrsOf (types.submodule { options = tcp; })) { };
      });
    };
    security = ns { sudo = sudo true; sudo-rs = sudo false; };
    services = ns {
      tailscale = ns {
        enable = opt types.bool false;
        authKeyFile = opt (types.nullOr types.path) null;
        interfaceName = opt types.str "tailscale0";
      };
      openssh = ns {
        enable = opt types.bool false;
        ports = opt (types.listOf types.port) [ 22 ];
        openFirewall = opt types.bool true;
        listenAddresses = opt (types.listOf (types.submodule {
          options = { addr = opt (types.nullOr types.str) null; port = opt (types.nullOr types.port) null; };
        })) [ ];
        settings = mkOption {
          default = { };
          type = types.submodule {
            freeformType = types.attrsOf (types.nullOr (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
            options = {
              PermitRootLogin = opt (types.enum [ "yes" "without-password" "prohibit-password" "forced-commands-only" "no" ]) "prohibit-password";
              PasswordAuthentication = opt types.bool true;
              KbdInteractiveAuthentication = opt types.bool true;
              AllowUsers = nullList;
              DenyUsers = nullList;
              AllowGroups = nullList;
              DenyGroups = nullList;
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
        type = types.attrsOf (types.submodule ({ name, config, ... }: {
          freeformType = types.lazyAttrsOf types.anything;
          options = {
            isNormalUser = opt types.bool false;
            # users-groups.nix: "" unless set; a normal user's is "users" (mkDefault), root's "root".
            group = opt types.str "";
            extraGroups = opt (types.listOf types.str) [ ];
            openssh = ns {
              authorizedKeys = ns {
                keys = opt (types.listOf types.singleLineStr) [ ];
                keyFiles = opt (types.listOf types.path) [ ];
              };
            };
          };
          config.group = lib.mkIf config.isNormalUser (lib.mkDefault "users");
        }));
      };
    };
  };
  config = {
    users.users.root.group = "root";
    # sshd.nix: openFirewall opens sshd's ports in the global firewall.
    networking.firewall.allowedTCPPorts = lib.mkIf (config.services.openssh.enable && config.services.openssh.openFirewall) config.services.openssh.ports;
  };
}

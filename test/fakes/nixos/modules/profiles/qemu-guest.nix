# FAKE modulesPath/profiles/qemu-guest.nix (test/fakes/nixos): nixpkgs' profile sets initrd modules
# for virtio; here it only has to exist, since hardware.nix imports it.
{ }

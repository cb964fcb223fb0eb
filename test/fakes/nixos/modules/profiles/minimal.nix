# FAKE modulesPath/profiles/minimal.nix (test/fakes/nixos): an empty module; it only has to exist for a module that imports it.
{ }

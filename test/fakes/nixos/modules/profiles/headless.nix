# FAKE modulesPath/profiles/headless.nix (test/fakes/nixos): an empty module; it only has to exist for a module that imports it.
{ }

/**
 * How a rendered module points at a secret file on the host, without ever containing the value.
 * The value lives in the secret store; the host's secrets mode ([sops] mode, or --secrets) puts
 * it on disk:
 *   sops    (default) `config.sops.secrets."NAME".path`, declared here with the host's default
 *           sops file (sops.defaultSopsFile); the encrypted entry is written by the secrets step
 *           from the store value.
 *   agenix  `config.age.secrets."NAME".path`; the host declares age.secrets."NAME".file (agenix
 *           needs a path to the .age file, which is the secrets step's to write).
 *   none    a fixed path under /var/lib/bootstrap/secrets, placed by nixos-anywhere's
 *           --extra-files tree at install time (no decryption on the host).
 */
import type { SecretsMode } from '../config/sections/secrets-mode.js';
import { nixAttrName, nixRaw, type NixAttrs, type NixValue } from '../nix/serialize.js';

/** Where the secrets of mode "none" land on the host (through the installer's --extra-files tree). */
export const EXTRA_FILES_SECRET_DIR = '/var/lib/bootstrap/secrets';

/**
 * The word a rendered module's header uses for where its secrets come from ("come from the sops
 * secret …"). Mode "none" has always been written "extra-files" there; the header is part of the
 * Nix users commit, so it stays byte-identical.
 */
export function secretsModeHeaderWord(mode: SecretsMode): string {
  return mode === 'none' ? 'extra-files' : mode;
}

const NAME = /^[a-z][a-z0-9-]*$/;

function checkName(name: string): string {
  // Names are ours (attic-env, restic-password…), never user text; checked anyway.
  if (!NAME.test(name)) throw new TypeError(`bad host secret name ${name}`);
  return name;
}

/** Nix expression for the secret's path on the host. */
export function buildSecretPath(mode: SecretsMode, name: string): NixValue {
  checkName(name);
  switch (mode) {
    case 'sops':
      return nixRaw(`config.sops.secrets.${nixAttrName(name)}.path`);
    case 'agenix':
      return nixRaw(`config.age.secrets.${nixAttrName(name)}.path`);
    case 'none':
      return `${EXTRA_FILES_SECRET_DIR}/${name}`;
  }
}

/** Declarations the module adds for its secrets (only sops-nix needs them in the same module). */
export function buildSecretDeclarations(mode: SecretsMode, names: string[]): NixAttrs {
  if (mode !== 'sops') return {};
  const secrets: Record<string, NixAttrs> = {};
  for (const n of names) secrets[checkName(n)] = {};
  return { sops: { secrets } };
}

/** Where the value of a host secret is kept in the secret store. */
export function hostSecretStoreName(host: string, name: string): string {
  return `hosts/${host}/${checkName(name)}`;
}

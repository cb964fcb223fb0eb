/**
 * How a rendered module points at a secret file on the host, without ever containing the value.
 * The value lives in the secret store; the host's secret mechanism puts it on disk:
 *   sops        (default) `config.sops.secrets."NAME".path`, declared here with the host's
 *               default sops file (sops.defaultSopsFile); the encrypted entry is written by the
 *               secrets step from the store value.
 *   agenix      `config.age.secrets."NAME".path`; the host declares age.secrets."NAME".file
 *               (agenix needs a path to the .age file, which is the secrets step's to write).
 *   extra-files a fixed path under /var/lib/bootstrap/secrets, placed by nixos-anywhere's
 *               --extra-files tree at install time (no decryption on the host).
 */
import { nixAttrName, nixRaw, type NixAttrs, type NixValue } from '../nix/serialize.js';

export type SecretMechanism = 'sops' | 'agenix' | 'extra-files';

export const SECRET_MECHANISMS: readonly SecretMechanism[] = ['sops', 'agenix', 'extra-files'];

/** Where extra-files secrets land on the host. */
export const EXTRA_FILES_SECRET_DIR = '/var/lib/bootstrap/secrets';

const NAME = /^[a-z][a-z0-9-]*$/;

function checkName(name: string): string {
  // Names are ours (attic-env, restic-password…), never user text; checked anyway.
  if (!NAME.test(name)) throw new TypeError(`bad host secret name ${name}`);
  return name;
}

/** Nix expression for the secret's path on the host. */
export function buildSecretPath(mech: SecretMechanism, name: string): NixValue {
  checkName(name);
  switch (mech) {
    case 'sops':
      return nixRaw(`config.sops.secrets.${nixAttrName(name)}.path`);
    case 'agenix':
      return nixRaw(`config.age.secrets.${nixAttrName(name)}.path`);
    case 'extra-files':
      return `${EXTRA_FILES_SECRET_DIR}/${name}`;
  }
}

/** Declarations the module adds for its secrets (only sops-nix needs them in the same module). */
export function buildSecretDeclarations(mech: SecretMechanism, names: string[]): NixAttrs {
  if (mech !== 'sops') return {};
  const secrets: Record<string, NixAttrs> = {};
  for (const n of names) secrets[checkName(n)] = {};
  return { sops: { secrets } };
}

/** Where the value of a host secret is kept in the secret store. */
export function hostSecretStoreName(host: string, name: string): string {
  return `hosts/${host}/${checkName(name)}`;
}

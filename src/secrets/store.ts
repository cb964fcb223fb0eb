/**
 * The secret store port. Backends: `local` (age-encrypted files in the flake, the default) and
 * `onepassword` (@1password/sdk). Names are slash-separated and predictable per host, e.g.
 * "hosts/web1/ssh_host_ed25519_key", "storage/b2main/secret-access-key". Every value a backend
 * returns or is given is registered with the redactor by the backend.
 */
export interface SecretMeta {
  /** What kind of secret: drives the 1Password item category. */
  kind?: 'ssh-key' | 'password' | 'note' | 'api-credential';
  /** Public half or other non-secret fields stored alongside (e.g. an SSH public key). */
  publicValue?: string;
}

export type HealthResult =
  | { kind: 'ok'; detail: string }
  | { kind: 'needs-setup'; detail: string; hint: string }
  | { kind: 'unreachable'; detail: string; hint: string };

export interface SecretStore {
  readonly kind: 'local' | 'onepassword';
  /** The value, or undefined when the secret does not exist. */
  get(name: string): Promise<string | undefined>;
  /** Create or replace; returns the reference to print and record (never the value). */
  put(name: string, value: string, meta?: SecretMeta): Promise<string>;
  exists(name: string): Promise<boolean>;
  /** Where the secret lives, e.g. "op://Infra/web1 ssh host key/private key" or "local:secrets/bootstrap/…age". */
  refOf(name: string): string;
  healthCheck(): Promise<HealthResult>;
  /**
   * The non-secret public half stored with `meta.publicValue` (e.g. an SSH public key), read
   * without decrypting anything, or undefined. Optional so simple test stores need not have it.
   */
  getPublic?(name: string): Promise<string | undefined>;
  /**
   * The value of an existing secret given by the user as a reference (e.g. a host manifest's
   * `[secrets] sshHostKey = "op://Infra/web1 ssh/private key"`), with its public half when the
   * store keeps one. `where` names the setting in errors. Only stores that can read references
   * have it (1Password).
   */
  readRef?(reference: string, where: string): Promise<{ value: string; publicKey?: string }>;
  /** Every secret name the store holds, sorted. Optional: only the local vault lists its names. */
  list?(): Promise<string[]>;
}

/** Store names are slash-separated segments of [A-Za-z0-9._-]; anything else is a programming error. */
export function assertSecretName(name: string): void {
  const ok = name.split('/').every((seg) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(seg));
  if (!ok) throw new Error(`invalid secret name "${name}"`);
}

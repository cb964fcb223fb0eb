/**
 * The provider port (issue 13): what a rescue needs from a hosting provider's API. One backend per
 * provider (hetzner-cloud.ts, …), chosen by the host manifest's [provider] kind; credentials come
 * from the secret store (never argv). Expected outcomes are values; refusals are BootstrapErrors
 * whose message names the provider's error and whose hint says what to do.
 */
export type ProviderKind = 'hetzner-cloud' | 'hetzner-robot' | 'ovh';

/** The server as the provider knows it. */
export interface ProviderServer {
  id: string;
  name: string;
  ipv4?: string;
  ipv6?: string;
  /** running, off, … as the provider says it. */
  status: string;
  /** Rescue is armed for the next boot. */
  rescueEnabled: boolean;
}

/** What enabling rescue gave back. */
export interface RescueGrant {
  /** The operator's key is authorized for root in the rescue system. */
  keyAuthorized: boolean;
  /** The root password the API returned (registered with the redactor, never printed or kept). */
  rootPassword?: string;
  /**
   * A fingerprint of the rescue system's host key from a trustworthy source (the API or its
   * console log), when the provider exposes one.
   */
  hostKeyFingerprint?: string;
  /** Boot configurations that were active and had to be deleted first (Robot: an earlier rescue, an installimage). */
  replaced?: string[];
}

export interface CredentialCheck {
  ok: boolean;
  /** What the read-only call showed ("token reads servers of the project"). */
  detail: string;
  /** What is missing and how to fix it. */
  hint?: string;
}

export interface RescueProvider {
  readonly kind: ProviderKind;
  /** "Hetzner Cloud" */
  readonly label: string;
  /**
   * Whether enableRescue can give the rescue system's host key from a trustworthy source. When
   * not, the user confirms the key (or gives --host-key), as for any new host.
   */
  readonly exposesHostKey: boolean;
  /**
   * The server named by the manifest's `server` (an id, a name or an IPv4 address).
   * @throws failure 'provider-server-not-found' and the provider's auth errors
   */
  findServer(selector: string): Promise<ProviderServer>;
  /** Arm the rescue system for the next boot with `publicKey` authorized for root. */
  enableRescue(server: ProviderServer, publicKey: string): Promise<RescueGrant>;
  /** Reset the server (power it on when it is off) so it boots the rescue system. */
  reset(server: ProviderServer): Promise<void>;
  /**
   * Make the next boot a boot from disk: undo what enableRescue armed when the provider does not
   * do it by itself. Returns what it did, for the journal and the output.
   */
  bootFromDisk(server: ProviderServer): Promise<string>;
  /** A read-only call that proves the credentials work; names the missing permission. */
  checkCredentials(): Promise<CredentialCheck>;
}

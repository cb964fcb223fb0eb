/**
 * Pure: what the installer on the target needs to substitute the system from the fleet's attic
 * cache (issue 20), and the attic client configuration that pushes to it from here.
 *
 * nixos-anywhere copies the closure with `nix copy --substitute-on-destination` (its default): the
 * target's own nix first substitutes every path it can from the substituters in ITS configuration,
 * and only the rest crosses the operator's link. The kexec installer's /etc/nix/nix.conf is in its
 * store (read-only), so the cache goes into root's user configuration, ~/.config/nix/nix.conf,
 * which every nix command root runs there reads (nixos-anywhere writes its "machine substituters"
 * to the same file). The installer lives in RAM: these files are gone after the reboot.
 */
export const INSTALLER_NIX_CONF = '/root/.config/nix/nix.conf';
export const INSTALLER_NETRC = '/root/.config/nix/netrc';

export interface InstallerCache {
  /** The cache's substituter URL as atticd reports it (substituter_endpoint). */
  substituter: string;
  /** "NAME:BASE64" */
  publicKey: string;
  /** A private cache: nix reads the pull token from this netrc. */
  netrc: boolean;
}

/** The installer's nix.conf: the cache added to its substituters, its key trusted. */
export function buildInstallerNixConf(c: InstallerCache): string {
  return [
    '# Written by nixos-bootstrap for one install: substitute the system from the fleet cache.',
    `extra-substituters = ${c.substituter}`,
    `extra-trusted-public-keys = ${c.publicKey}`,
    // A cache the target cannot reach must not stall the copy: nix gives up on it and streams.
    'connect-timeout = 10',
    ...(c.netrc ? [`netrc-file = ${INSTALLER_NETRC}`] : []),
    '',
  ].join('\n');
}

/** The server name bootstrap gives the cache in its own, temporary attic client configuration. */
export const ATTIC_SERVER_NAME = 'nixos-bootstrap';

/**
 * attic's client configuration ($XDG_CONFIG_HOME/attic/config.toml, attic client/src/config.rs):
 * one server, its token read from a file (token-file), so the token is in no argv and no config
 * of the user's. Values are JSON-quoted, which is valid TOML for these strings.
 */
export function buildAtticClientConfig(endpoint: string, tokenFile: string): string {
  return [
    `default-server = ${JSON.stringify(ATTIC_SERVER_NAME)}`,
    '',
    `[servers.${ATTIC_SERVER_NAME}]`,
    `endpoint = ${JSON.stringify(endpoint)}`,
    `token-file = ${JSON.stringify(tokenFile)}`,
    '',
  ].join('\n');
}

/** `attic push SERVER:CACHE PATH…`: attic pushes the closure of the paths, skipping what the cache has. */
export function buildAtticPushArgv(attic: string, cache: string, paths: readonly string[]): string[] {
  return [attic, 'push', `${ATTIC_SERVER_NAME}:${cache}`, ...paths];
}

/**
 * What the ssh guard (ssh-guard.ts) pins, read from the flake's pin file: the keys of the target
 * under the names it is reached by, and every jump host's keys under the hop's own name (issue
 * 20). Shared by the install (the installer's ssh) and deploy (nix's ssh for the copy and the
 * remote build): both refuse to start when a key is missing, because ssh would otherwise meet a
 * key nobody checked. Revoked keys (@revoked) never pin anything.
 */
import { readFile } from 'node:fs/promises';
import { failure } from '../errors.js';
import { lookupKnownHost, parseKnownHosts, type HostKey } from '../ssh/host-keys.js';
import { formatResolvedTarget, type ResolvedTarget } from '../ssh/ssh-config.js';
import { formatTarget, knownHostsName, type SshTarget } from '../ssh/target.js';
import { buildGuardPins } from './ssh-guard.js';

/** The flake's pinned host keys (none yet when the file is missing). */
export async function readPinEntries(file: string): Promise<ReturnType<typeof parseKnownHosts>> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    /* nothing pinned yet */
  }
  return parseKnownHosts(text, file);
}

/** The keys pinned under any of `names`, without the revoked ones (may be empty). */
export async function readPinnedKeys(file: string, names: readonly string[]): Promise<HostKey[]> {
  const entries = await readPinEntries(file);
  const keys = new Map<string, HostKey>();
  const revoked = new Set<string>();
  for (const name of names) {
    const found = lookupKnownHost(entries, name);
    for (const e of found.revoked) revoked.add(e.key.fingerprint);
    for (const e of found.known) keys.set(e.key.fingerprint, e.key);
  }
  return [...keys.values()].filter((k) => !revoked.has(k.fingerprint));
}

/**
 * The guard's known_hosts lines for the jump hosts of `target`, each hop's keys under its own
 * name. A hop without a pin throws 'no-pinned-key' naming the hop.
 */
export async function readPinnedJumpLines(file: string, target: SshTarget): Promise<string> {
  const jumps = (target as ResolvedTarget).jumps ?? [];
  let lines = '';
  for (const hop of jumps) {
    const keys = await readPinnedKeys(file, [knownHostsName(hop)]);
    if (!keys.length) {
      throw failure('no-pinned-key', `no host key of jump host ${formatTarget(hop)} is pinned in ${file}`, `pin it first: \`bootstrap probe ${formatResolvedTarget(target)}\` checks every hop's key and asks, then run again with --resume`);
    }
    lines += buildGuardPins([knownHostsName(hop)], keys);
  }
  return lines;
}

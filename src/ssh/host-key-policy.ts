/**
 * Host key trust: one policy object per run decides, for every connection, whether the key a host
 * presents is trusted. Known keys come from the flake's `.bootstrap/known_hosts` and the user's
 * `~/.ssh/known_hosts`; an explicit pin (`--host-key`) or the scripts opt-in (`--accept-new-host-key`)
 * or an interactive yes trusts a new key. Every trusted key is pinned into the flake file after the
 * handshake proved the host holds it, so ssh(1) and nixos-anywhere can use that file later.
 *
 * `planHostKeyDecision` is pure; the class around it only reads/writes the files and asks.
 * For the install step: `allowKeyOnce` accepts a different key for one address in this run only
 * (the kexec installer has a fresh key), and `pin` sets the key a host must present (the
 * provisioned one after install); see wait-host-key.ts for waiting on it with a deadline.
 */
import { readFile } from 'node:fs/promises';
import { buildKnownHostsPath, writePinnedKey } from './known-hosts-file.js';
import { join } from 'node:path';
import { BootstrapError, failure, usageError } from '../errors.js';
import type { Output } from '../ports/output.js';
import type { Prompter } from '../ports/prompter.js';
import {
  buildPinnedKnownHosts,
  keyLabel,
  lookupKnownHost,
  parseKnownHosts,
  type HostKey,
  type KnownHostEntry,
} from './host-keys.js';
import { formatTarget, knownHostsName, type SshTarget } from './target.js';

export type HostKeyDecision =
  | { trust: true; reason: 'known' | 'pinned' | 'accepted-new' | 'transient'; persist: boolean; replaced?: KnownHostEntry[] }
  | { trust: false; error: BootstrapError }
  | { trust: 'ask' };

export interface HostKeyFacts {
  target: SshTarget;
  presented: HostKey;
  known: KnownHostEntry[];
  revoked: KnownHostEntry[];
  /** The file pins are written to; a known entry elsewhere is copied into it. */
  pinFile: string;
  pin?: string;
  /** `allowKeyOnce`: null accepts any key for this address in this run. */
  transient?: string | null;
  acceptNew: boolean;
  interactive: boolean;
}

const where = (e: KnownHostEntry) => `${e.file}:${e.line}`;
const describe = (k: HostKey) => `${k.fingerprint} (${keyLabel(k.type)})`;

/** Decide on a presented host key. Pure: the same facts give the same decision. */
export function planHostKeyDecision(f: HostKeyFacts): HostKeyDecision {
  const who = formatTarget(f.target);
  const fp = f.presented.fingerprint;
  const revoked = f.revoked.find((e) => e.key.fingerprint === fp);
  if (revoked) {
    return { trust: false, error: failure('host-key-revoked', `${who} presents host key ${fp}, which is marked @revoked in ${where(revoked)}`, 'do not connect to this host with that key; reinstall its host keys') };
  }
  if (f.transient !== undefined) {
    if (f.transient === null || f.transient === fp) return { trust: true, reason: 'transient', persist: false };
    return { trust: false, error: failure('host-key-mismatch', `${who} presents host key ${describe(f.presented)}, not the expected ${f.transient}`, 'the machine at that address is not the one this step expects; check the address and the console') };
  }
  if (f.pin !== undefined) {
    if (f.pin === fp) {
      const replaced = f.known.filter((e) => e.key.fingerprint !== fp);
      return { trust: true, reason: 'pinned', persist: true, replaced };
    }
    return {
      trust: false,
      error: failure('host-key-mismatch', `${who} presents host key ${describe(f.presented)}, not the pinned ${f.pin} given with --host-key`, 'check the fingerprint on the target\'s console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub); if the key is right, the address is wrong or the connection is intercepted'),
    };
  }
  if (f.known.length) {
    const same = f.known.find((e) => e.key.fingerprint === fp);
    if (same) return { trust: true, reason: 'known', persist: same.file !== f.pinFile };
    const old = f.known[0]!;
    const others = f.known.length > 1 ? ` and ${f.known.length - 1} more` : '';
    return {
      trust: false,
      error: failure(
        'host-key-changed',
        `host key of ${who} changed: recorded ${describe(old.key)} in ${where(old)}${others}, now ${describe(f.presented)}`,
        `if the host was reinstalled or booted into a rescue system, check ${fp} on its console and run again with --host-key ${fp}; otherwise stop: someone may be intercepting the connection`,
      ),
    };
  }
  if (f.acceptNew) return { trust: true, reason: 'accepted-new', persist: true };
  if (f.interactive) return { trust: 'ask' };
  return {
    trust: false,
    error: usageError(
      'unknown-host-key',
      `host key of ${who} is not known yet: ${describe(f.presented)}`,
      `check it on the target's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then pass --host-key ${fp}, or --accept-new-host-key to trust it on first contact`,
    ),
  };
}

export interface HostKeyPolicyOptions {
  /** The flake directory; pins go to FLAKE/STATEDIR/known_hosts. */
  flakeDir: string;
  /** bootstrap.toml's stateDir (default .bootstrap). */
  stateDir?: string;
  /** Read-only known_hosts files, default ~/.ssh/known_hosts. */
  userKnownHosts?: string[];
  acceptNew?: boolean;
}

export interface HostKeyPolicyPorts {
  out: Output;
  prompts: Prompter;
  env: NodeJS.ProcessEnv;
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw failure('known-hosts-unreadable', `cannot read ${path}: ${(e as Error).message}`, 'fix its permissions', e);
  }
}

export class HostKeyPolicy {
  readonly pinFile: string;
  private readonly userFiles: string[];
  private readonly pins = new Map<string, string>();
  private readonly transient = new Map<string, string | null>();
  private acceptNew: boolean;

  constructor(private readonly ports: HostKeyPolicyPorts, opts: HostKeyPolicyOptions) {
    this.pinFile = buildKnownHostsPath(opts.flakeDir, opts.stateDir);
    const home = ports.env.HOME;
    this.userFiles = opts.userKnownHosts ?? (home ? [join(home, '.ssh', 'known_hosts')] : []);
    this.acceptNew = opts.acceptNew ?? false;
  }

  /** The key `target` must present (`--host-key`, or the key we provisioned). Persisted on match. */
  pin(target: SshTarget, fingerprint: string): void {
    this.pins.set(knownHostsName(target), fingerprint);
  }

  /**
   * Accept a key other than the recorded one for this address, in this run only, never persisted
   * (the kexec installer presents a fresh key on the address of the host). null: any key.
   */
  allowKeyOnce(target: SshTarget, fingerprint: string | null): void {
    this.transient.set(knownHostsName(target), fingerprint);
  }

  /** Drop a pin or a one-run allowance (e.g. after the installer rebooted into the new system). */
  forget(target: SshTarget): void {
    this.pins.delete(knownHostsName(target));
    this.transient.delete(knownHostsName(target));
  }

  private async entries(): Promise<KnownHostEntry[]> {
    const files = [this.pinFile, ...this.userFiles];
    const texts = await Promise.all(files.map(readIfExists));
    return texts.flatMap((t, i) => parseKnownHosts(t, files[i]!));
  }

  /** Key types recorded for the target, so the connection can ask for a known type first. */
  async knownTypes(target: SshTarget): Promise<string[]> {
    const { known } = lookupKnownHost(await this.entries(), knownHostsName(target));
    return [...new Set(known.map((e) => e.key.type))];
  }

  /** Fingerprints recorded for the target (pin file and user known_hosts), ed25519 first. */
  async knownFingerprints(target: SshTarget): Promise<string[]> {
    const { known } = lookupKnownHost(await this.entries(), knownHostsName(target));
    return [...new Set([...known].sort((a, b) => Number(b.key.type === 'ssh-ed25519') - Number(a.key.type === 'ssh-ed25519')).map((e) => e.key.fingerprint))];
  }

  /**
   * Decide on `presented`; asks on a terminal when the key is new. Throws the refusal.
   * `onAsk` lets the caller pause its connect timer while a person reads the fingerprint.
   */
  async verify(target: SshTarget, presented: HostKey, onAsk?: (asking: boolean) => void): Promise<HostKeyDecision & { trust: true }> {
    const name = knownHostsName(target);
    const { known, revoked } = lookupKnownHost(await this.entries(), name);
    const facts: HostKeyFacts = {
      target, presented, known, revoked, pinFile: this.pinFile,
      acceptNew: this.acceptNew, interactive: this.ports.prompts.interactive,
      ...(this.pins.has(name) ? { pin: this.pins.get(name)! } : {}),
      ...(this.transient.has(name) ? { transient: this.transient.get(name)! } : {}),
    };
    const d = planHostKeyDecision(facts);
    if (d.trust === false) throw d.error;
    if (d.trust === true) return d;
    this.ports.out.info(`The host key of ${formatTarget(target)} is not known yet.`);
    this.ports.out.info(`${keyLabel(presented.type)} key fingerprint: ${presented.fingerprint}`);
    onAsk?.(true);
    let yes: boolean;
    try {
      yes = await this.ports.prompts.confirm({ message: `Trust this key and pin it in ${this.pinFile}?`, default: false, flag: '--host-key SHA256:… or --accept-new-host-key' });
    } finally {
      onAsk?.(false);
    }
    if (!yes) throw usageError('host-key-declined', `host key ${presented.fingerprint} of ${formatTarget(target)} was not trusted`, 'compare it with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the target\'s console, then run again');
    return { trust: true, reason: 'accepted-new', persist: true };
  }

  /** Write the pin after the handshake proved the host holds the key. Plan (pure), then apply. */
  async commit(target: SshTarget, presented: HostKey, decision: HostKeyDecision & { trust: true }): Promise<void> {
    if (!decision.persist) return;
    const changed = await writePinnedKey(this.pinFile, knownHostsName(target), presented);
    if (!changed) return;
    for (const old of decision.replaced ?? []) {
      this.ports.out.warn(`${formatTarget(target)}: the pinned key overrides ${old.key.fingerprint} recorded in ${where(old)}`);
    }
    this.ports.out.debug(`pinned ${presented.fingerprint} for ${knownHostsName(target)} in ${this.pinFile}`);
  }
}

/**
 * The rescue steps (issue 13): a broken host is booted into its provider's rescue system through
 * the provider API, then its SSH is awaited and the rescue's host key pinned. They run first in
 * `bootstrap rescue HOST` and in `rebuild|recover HOST --via-rescue`, journaled like every step.
 * Read the list top to bottom.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../../context.js';
import { failure, messageOf, usageError } from '../../errors.js';
import { pinHostKey } from '../../installer/wait-host-key.js';
import type { OperatorKey } from '../../provider/ssh-key.js';
import type { ProviderServer, RescueProvider } from '../../provider/types.js';
import { keyLabel, lookupKnownHost, parseKnownHosts, type HostKey } from '../../ssh/host-keys.js';
import { formatTarget, knownHostsName, type SshTarget } from '../../ssh/target.js';
import { fetchHostKey, type RouteVia } from '../../ssh/fetch-host-key.js';
import type { Step, StepContext } from '../step.js';

export interface RescueCtx extends StepContext {
  app: AppContext;
  host: string;
  /** The manifest's [provider] server selector (id, name or address). */
  selector: string;
  provider(): Promise<RescueProvider>;
  /** The server, found once per run. */
  server(): Promise<ProviderServer>;
  operatorKey: OperatorKey;
  /** Where the rescue system answers: the host's address, root, port 22. */
  target: SshTarget;
  /** --host-key: the fingerprint the rescue system must present. */
  pin?: string;
  /** May ask a person to confirm the rescue's key (a terminal, no --yes). */
  mayAsk: boolean;
  /** The flake's known_hosts, where the rescue key is pinned. */
  knownHostsFile: string;
  /** <state>/HOST/rescue.json: what a resumed run needs from earlier steps. */
  statePath: string;
  waitTimeoutMs: number;
  /** The key the rescue system presented and we pinned (set by the wait step). */
  rescueKey?: HostKey;
  /** For tests: the handshake. */
  probe?: typeof fetchHostKey;
  /** How the waits reach a target behind jump hosts (ssh-config.ts). */
  route?: RouteVia;
}

interface RescueState {
  serverId: string;
  /** A fingerprint of the rescue's host key from the API, when it gave one. */
  trustedFingerprint?: string;
}

async function loadState(path: string): Promise<RescueState | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RescueState;
  } catch {
    return undefined;
  }
}

/**
 * Refuse before any API call when the rescue key could only be accepted silently: with --yes (or
 * no terminal), no --host-key and a provider that does not expose the key. Pure.
 * @throws usageError 'rescue-key-unverifiable'
 */
export function checkRescueTrust(o: { label: string; exposesHostKey: boolean; pin?: string; mayAsk: boolean; host: string }): void {
  if (o.exposesHostKey || o.pin !== undefined || o.mayAsk) return;
  throw usageError(
    'rescue-key-unverifiable',
    `${o.label} does not expose the host key of ${o.host}'s rescue system, and this run may not ask: its key would be accepted unchecked`,
    `run \`bootstrap rescue ${o.host}\` on a terminal and compare the key with the rescue's console, or pass --host-key SHA256:… of the rescue system`,
  );
}

export const rescueEnableStep: Step<RescueCtx> = {
  id: 'rescue-enable',
  title: 'arm the rescue system through the provider API',
  async run(c, progress) {
    const p = await c.provider();
    const server = await c.server();
    progress.update(`${p.label} server ${server.name} (${server.id})`);
    const grant = await p.enableRescue(server, c.operatorKey.line);
    // OVH VPS: the API takes no key; the rescue's root password arrives by mail. The wait below
    // needs no login; the install then logs in with that password (--password-env).
    // An active boot configuration had to go first (Robot holds one at a time): say which, since an installimage armed by hand is lost.
    if (grant.replaced?.length) c.app.out.warn(`${p.label}: the active ${grant.replaced.join(' and ')} boot configuration of ${server.name} was deleted to arm the rescue`);
    if (!grant.keyAuthorized) c.app.out.warn(`${p.label} does not take an SSH key for this server's rescue: its root password arrives by mail; log in with it (export it, then --password-env VAR)`);
    const state: RescueState = { serverId: server.id, ...(grant.hostKeyFingerprint ? { trustedFingerprint: grant.hostKeyFingerprint } : {}) };
    await writeFile(c.statePath, JSON.stringify(state) + '\n', { mode: 0o600 });
    progress.update(grant.keyAuthorized ? `armed for the next boot, ${c.operatorKey.sha256} may log in as root` : 'armed for the next boot (root password by mail)');
  },
};

export const rescueResetStep: Step<RescueCtx> = {
  id: 'rescue-reset',
  title: 'reset the server into the rescue system',
  async run(c) {
    await (await c.provider()).reset(await c.server());
  },
};

/** Old keys of this address: an answer with one of them means the reset has not happened yet. */
async function oldKeys(c: RescueCtx): Promise<string[]> {
  let text = '';
  try {
    text = await readFile(c.knownHostsFile, 'utf8');
  } catch {
    // no pins yet
  }
  return lookupKnownHost(parseKnownHosts(text, c.knownHostsFile), knownHostsName(c.target)).known.map((e) => e.key.fingerprint);
}

async function decide(c: RescueCtx, key: HostKey, trusted: string | undefined): Promise<void> {
  const who = formatTarget(c.target);
  const shown = `${key.fingerprint} (${keyLabel(key.type)})`;
  const expected = trusted ?? c.pin;
  if (expected !== undefined) {
    if (expected === key.fingerprint) return;
    throw failure('host-key-mismatch', `${who} presents host key ${shown}, not the rescue system's ${expected} (${trusted ? 'from the provider API' : 'given with --host-key'})`, 'another machine answers at that address, or the connection is intercepted; nothing was pinned');
  }
  if (!c.mayAsk) throw usageError('rescue-key-unverifiable', `the rescue system of ${c.host} presents ${shown}, and this run may not ask`, `compare it with the rescue's console, then pass --host-key ${key.fingerprint}`);
  c.app.out.info(`The rescue system of ${c.host} (${who}) presents a host key the provider does not vouch for.`);
  c.app.out.info(`${keyLabel(key.type)} key fingerprint: ${key.fingerprint}`);
  const yes = await c.app.prompts.confirm({ message: 'Is this the key on the rescue system\'s console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)? Trust and pin it?', default: false, flag: '--host-key SHA256:…' });
  if (!yes) throw usageError('host-key-declined', `the rescue key ${key.fingerprint} of ${c.host} was not trusted`, 'check it on the console, then run again with --resume (or --host-key)');
}

export const rescueWaitStep: Step<RescueCtx> = {
  id: 'rescue-wait',
  title: "wait for the rescue system's SSH and pin its host key",
  async run(c, progress) {
    const trusted = (await loadState(c.statePath))?.trustedFingerprint;
    const old = await oldKeys(c);
    const probe = c.probe ?? ((t: SshTarget, ms: number, alg?: string[]) => fetchHostKey(t, ms, alg, c.route));
    const who = formatTarget(c.target);
    const end = c.clock.now().getTime() + c.waitTimeoutMs;
    let last = 'no answer yet';
    for (let attempt = 1; ; attempt++) {
      if (c.signal.aborted) throw failure('interrupted', `interrupted while waiting for ${who}`);
      const left = end - c.clock.now().getTime();
      if (left <= 0) break;
      progress.update(`waiting for ${who} (attempt ${attempt}, ${Math.ceil(left / 1000)} s left)`);
      let key: HostKey | undefined;
      try {
        key = await probe(c.target, Math.min(10_000, left), ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256']);
      } catch (e) {
        last = messageOf(e);
      }
      if (key && old.includes(key.fingerprint)) last = `it still presents its old key ${key.fingerprint}`;
      else if (key) {
        await decide(c, key, trusted);
        await pinHostKey(c.knownHostsFile, c.target, key);
        c.rescueKey = key;
        progress.update(`presents ${key.fingerprint}, pinned`);
        return;
      }
      await c.clock.sleep(Math.max(0, Math.min(2_000, end - c.clock.now().getTime())));
    }
    throw failure('rescue-wait-timeout', `the rescue system of ${c.host} did not answer at ${who} within ${Math.round(c.waitTimeoutMs / 1000)} s (last: ${last})`, 'check the server in the provider\'s console; then run again with --resume');
  },
};

export const rescueBootDiskStep: Step<RescueCtx> = {
  id: 'rescue-boot-disk',
  title: 'make the next boot a boot from disk',
  async run(c, progress) {
    progress.update(await (await c.provider()).bootFromDisk(await c.server()));
  },
};

export const RESCUE_STEPS: readonly Step<RescueCtx>[] = [
  rescueEnableStep, // arm before the reset: the reset boots whatever is armed
  rescueResetStep,
  rescueWaitStep, // pins the rescue's key: the probe and the installer connect with it
  rescueBootDiskStep, // undo the arming, so the installed system's reboot boots the disk
];

export const RESCUE_STEP_IDS = RESCUE_STEPS.map((s) => s.id);

export function buildRescueStatePath(journalDir: string): string {
  return join(journalDir, 'rescue.json');
}

/**
 * `bootstrap rescue HOST` and the first steps of `rebuild|recover HOST --via-rescue` (issue 13):
 * boot a host that no longer answers SSH into its provider's rescue system, wait for it, pin the
 * rescue's host key. Everything is asked and checked before the first API call: the [provider]
 * section, the credentials, the operator key, and whether the rescue key can be trusted without
 * accepting it silently (checkRescueTrust).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import type { Manifest } from '../../manifest/schema.js';
import { openProvider } from '../../provider/open-provider.js';
import { parseOperatorKey } from '../../provider/ssh-key.js';
import type { ProviderServer, RescueProvider } from '../../provider/types.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { parseFingerprint } from '../../ssh/host-keys.js';
import { buildKnownHostsPath } from '../../ssh/known-hosts-file.js';
import { formatTarget, parseTarget } from '../../ssh/target.js';
import { resolveTarget } from '../../ssh/ssh-config.js';
import { HostKeyPolicy } from '../../ssh/host-key-policy.js';
import { buildJournalPaths } from '../journal.js';
import { runSteps, type RunStepsResult } from '../step.js';
import { once } from '../install/context.js';
import { buildRescueStatePath, checkRescueTrust, RESCUE_STEP_IDS, RESCUE_STEPS, type RescueCtx } from './steps.js';

export interface RescueSetup {
  flakeDir: string;
  loaded: LoadedConfig;
  manifest: Manifest;
  host: string;
  /** user@host[:port] of the host (the manifest's, or --target). */
  target: string | undefined;
  /** -i: the private key; its .pub is authorized in the rescue system. */
  identity: string | undefined;
  /** --host-key: the rescue system's fingerprint. */
  hostKey: string | undefined;
  yes: boolean;
  waitTimeoutSeconds?: number;
  /** --ssh-config FILE to resolve the target with (default ~/.ssh/config). */
  sshConfig?: string;
}

/**
 * The rescue context, with every check that needs no API call done.
 * @throws usageError 'no-provider' | 'rescue-target' | 'no-operator-key' | 'rescue-key-unverifiable'
 */
export async function prepareRescue(app: AppContext, s: RescueSetup): Promise<RescueCtx> {
  const settings = s.manifest.provider;
  if (!settings) {
    throw usageError('no-provider', `${s.host}'s manifest has no [provider] section`, `add to hosts/${s.host}/bootstrap.toml:\n[provider]\nkind = "hetzner-cloud"\nserver = "${s.host}"   # id, name or IPv4 address\ncredentials = "providers/hcloud"   # bootstrap secrets set providers/hcloud/token`);
  }
  if (!s.target) throw usageError('no-target', `${s.host}'s manifest names no target`, 'pass --target root@HOST');
  // Resolved with the ssh config like every connection (issue 20): an alias, a jump host.
  const configFile = s.sshConfig ? resolve(app.cwd, s.sshConfig) : undefined;
  const target = await resolveTarget({ run: app.run, env: app.env, debug: (m) => app.out.debug(m) }, s.target, parseTarget(s.target), configFile ? { configFile } : {});
  if (target.user !== 'root' || target.port !== 22) {
    throw usageError('rescue-target', `the rescue system answers as root on port 22, but the target is ${formatTarget(target)}`, `pass --target root@${target.host.includes(':') ? `[${target.host}]` : target.host}`);
  }
  if (!s.identity) throw usageError('no-operator-key', 'a rescue needs the key to log in with: its public half is authorized in the rescue system', 'pass -i ~/.ssh/id_ed25519 (its .pub must sit beside it)');
  const identity = resolve(app.cwd, s.identity);
  let pubText: string;
  try {
    pubText = await readFile(`${identity}.pub`, 'utf8');
  } catch {
    throw usageError('no-operator-key', `${identity}.pub is missing: the rescue system authorizes the public half of -i`, `ssh-keygen -y -f ${identity} > ${identity}.pub`);
  }
  const operatorKey = parseOperatorKey(pubText, `${identity}.pub`);
  const pin = s.hostKey !== undefined ? parseFingerprint(s.hostKey) : undefined;
  const mayAsk = app.prompts.interactive && !s.yes;
  const store = await openSecretStore(s.loaded, app);
  const provider = await openProvider(app, settings, store); // reads the credentials: missing ones stop here
  checkRescueTrust({ label: provider.label, exposesHostKey: provider.exposesHostKey, ...(pin ? { pin } : {}), mayAsk, host: s.host });
  const journal = buildJournalPaths(s.flakeDir, s.host, s.loaded.config.stateDir);
  await mkdir(journal.dir, { recursive: true, mode: 0o700 });
  const server = once(() => provider.findServer(settings.server));
  return {
    app, out: app.out, signal: app.signal, clock: app.clock,
    host: s.host, selector: settings.server,
    provider: async (): Promise<RescueProvider> => provider,
    server: async (): Promise<ProviderServer> => server(),
    operatorKey, target: { ...target, identityFile: identity }, ...(pin ? { pin } : {}), mayAsk,
    // The waits go through the jump hosts, whose keys are checked like on every connection.
    ...(target.jumps?.length ? { route: { ports: app, hostKeys: new HostKeyPolicy(app, { flakeDir: s.flakeDir, stateDir: s.loaded.config.stateDir }) } } : {}),
    knownHostsFile: buildKnownHostsPath(s.flakeDir, s.loaded.config.stateDir),
    statePath: buildRescueStatePath(journal.dir),
    waitTimeoutMs: (s.waitTimeoutSeconds ?? 600) * 1000,
  };
}

export interface RescueRunOptions {
  resume?: boolean;
  from?: string;
  runId?: string;
}

/** Run the rescue steps, journaled in the host's journal. */
export async function runRescueSteps(c: RescueCtx, flakeDir: string, stateDir: string | undefined, o: RescueRunOptions): Promise<RunStepsResult> {
  return runSteps(RESCUE_STEPS, c, { journal: buildJournalPaths(flakeDir, c.host, stateDir), ...(o.resume ? { resume: true } : {}), ...(o.from ? { from: o.from } : {}), ...(o.runId ? { runId: o.runId } : {}) });
}

export function isRescueStep(id: string): boolean {
  return RESCUE_STEP_IDS.includes(id);
}

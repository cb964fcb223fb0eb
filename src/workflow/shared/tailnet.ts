/**
 * Reaching a host over its tailnet (issue 21). The manifest's [tailscale] name (HOST.TAILNET) is
 * how a host is reached once it joined; a host whose SSH port the lock-out guard found open only
 * on tailscale0 is reachable in no other way after the install.
 *
 * - Install: preflight records whether the host is tailnet-only (`planTailnetReach`, saved next to
 *   the run state); verify then waits, with its deadline, for the tailnet name to resolve and
 *   answer with the provisioned host key, and pins it under that name. The public address is not
 *   contacted: it is firewalled, and another machine may answer there.
 * - status, deploy: the tailnet name is preferred whenever the manifest records one and it
 *   resolves here (the operator's machine is on the tailnet); otherwise the target. The report
 *   says which (`via`). Over the tailnet the host must present the key pinned for it, or, when
 *   none is pinned under the name yet, the key pinned for its target (the same host key).
 *
 * The name is resolved like every target (ssh config first: `ssh -G` maps a Host block, then
 * getaddrinfo), so a route in the ssh config applies to it too.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../../context.js';
import { failure, isBootstrapError, usageError } from '../../errors.js';
import type { LockoutCheck } from '../../installer/lockout.js';
import { runWaitForProvisionedKey, type WaitHostKeyOptions } from '../../installer/wait-host-key.js';
import { fetchHostKey, type RouteVia } from '../../ssh/fetch-host-key.js';
import type { HostKey } from '../../ssh/host-keys.js';
import { systemLookup, type NameLookup } from '../../ssh/name-lookup.js';
import { formatResolvedTarget, resolveTarget, type ResolvePorts, type ResolvedTarget } from '../../ssh/ssh-config.js';
import { formatTarget, parseTarget, type SshTarget } from '../../ssh/target.js';

/** How the installed host is reached, as preflight found it. */
export type TailnetReach = { tailnetOnly: false } | { tailnetOnly: true; name: string; interface: string };

/**
 * From the lock-out guard's answer: is the SSH port open only on the tailnet interface? Then the
 * host is reached over `tailnetName` after the install. Pure.
 * @throws failure 'tailnet-name-unknown' when it is, but bootstrap.toml names no tailnet (verify
 *   and every later run would have no way to the host)
 */
export function planTailnetReach(check: Pick<LockoutCheck, 'openOn'>, tailscaleInterface: string, tailnetName: string | undefined, host: string): TailnetReach {
  const only = check.openOn.length > 0 && check.openOn.every((i) => i === tailscaleInterface);
  if (!only) return { tailnetOnly: false };
  if (!tailnetName) {
    throw failure(
      'tailnet-name-unknown',
      `${host}'s SSH port is open only on ${tailscaleInterface}, but bootstrap.toml names no tailnet: after the install bootstrap could not reach it to check its host key`,
      'set [tailscale] tailnet = "tail1234.ts.net" (your tailnet\'s DNS name) in bootstrap.toml, or open the port on another interface; nothing on the target was touched',
    );
  }
  return { tailnetOnly: true, name: tailnetName, interface: tailscaleInterface };
}

/** Where preflight keeps the reach for verify and the report (beside the run state, for --resume). */
export function buildReachPath(runStatePath: string): string {
  return join(dirname(runStatePath), 'reach.json');
}

export async function saveReach(path: string, reach: TailnetReach): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(reach) + '\n', { mode: 0o600 });
}

/** The saved reach; a run from before preflight (or before this record) reads as not tailnet-only. */
export async function loadReach(path: string): Promise<TailnetReach> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<{ tailnetOnly: boolean; name: string; interface: string }>;
    if (v.tailnetOnly === true && typeof v.name === 'string' && typeof v.interface === 'string') return { tailnetOnly: true, name: v.name, interface: v.interface };
  } catch {
    /* none recorded */
  }
  return { tailnetOnly: false };
}

/** The target text of the host under its tailnet name: same user and port. Pure. */
export function buildTailnetTargetText(target: Pick<SshTarget, 'user' | 'port'>, name: string): string {
  return formatTarget({ user: target.user, host: name, port: target.port });
}

/** The tailnet name resolved with the ssh config (as the target is), not looked up yet. */
export function resolveTailnetTarget(ports: ResolvePorts, text: string, o: { sshConfig?: string; identityFile?: string }): Promise<ResolvedTarget> {
  return resolveTarget(ports, text, parseTarget(text, o.identityFile ? { identityFile: o.identityFile } : {}), o.sshConfig ? { configFile: o.sshConfig } : {});
}

export interface TailnetWait {
  clock: Clock;
  /** The tailnet target (resolveTailnetTarget). */
  target: ResolvedTarget;
  expected: HostKey;
  tolerate: string[];
  deadlineMs: number;
  intervalMs: number;
  knownHostsFile: string;
  via: RouteVia;
  signal: AbortSignal;
  onAttempt: (detail: string) => void;
  /** Default: getaddrinfo (systemLookup). */
  lookup?: NameLookup;
}

/**
 * Verify over the tailnet: until the deadline, wait for the name to resolve and the host to answer
 * there with the expected key; pin it under the name. Each attempt that does not resolve says so.
 * @throws failure 'tailnet-wait-timeout' at the deadline (with what the last attempt saw),
 *   'host-key-mismatch' when another key answers there
 */
export async function runWaitOverTailnet(w: TailnetWait): Promise<HostKey> {
  const lookup = w.lookup ?? systemLookup;
  const name = w.target.jumps?.length ? undefined : w.target.host;
  const o: WaitHostKeyOptions = {
    expected: w.expected, tolerate: w.tolerate, deadlineMs: w.deadlineMs, intervalMs: w.intervalMs, knownHostsFile: w.knownHostsFile, signal: w.signal,
    onAttempt: (d) => w.onAttempt(`${d} over the tailnet`),
    probe: async (t, ms, alg) => {
      // Behind a jump host the name is the jump host's to resolve.
      if (name !== undefined && !(await lookup(name, Math.min(ms, 5_000))).length) throw new Error(`${name} does not resolve (the host has not joined the tailnet yet)`);
      return fetchHostKey(t, ms, alg, w.via);
    },
  };
  try {
    return await runWaitForProvisionedKey(w.clock, w.target, o);
  } catch (e) {
    if (!isBootstrapError(e) || e.code !== 'host-key-wait-timeout') throw e;
    throw failure(
      'tailnet-wait-timeout',
      `${formatResolvedTarget(w.target)}${w.target.alias ? ` (${w.target.host})` : ''} did not answer over the tailnet within ${Math.round(w.deadlineMs / 1000)} s: ${e.message.replace(/^.*\(last: /, '(last: ')}`,
      'the host is reachable only over its tailnet: check on its console that tailscaled joined (`tailscale status`; an expired or used-up auth key is the usual cause), that this machine is on the same tailnet, then run again with --resume',
    );
  }
}

/** What a later run connects to: the tailnet name when it resolves here, else the target. */
export type TailnetRoute = { via: 'tailnet'; target: ResolvedTarget } | { via: 'target'; why: string };

/**
 * Prefer the tailnet name (status, deploy): it is used when it resolves here; otherwise the
 * caller uses the target, and `why` says so.
 */
export async function chooseTailnetRoute(ports: ResolvePorts, text: string, o: { sshConfig?: string; identityFile?: string; lookup?: NameLookup; timeoutMs?: number }): Promise<TailnetRoute> {
  const t = await resolveTailnetTarget(ports, text, o);
  if (t.jumps?.length) return { via: 'tailnet', target: t };
  const found = await (o.lookup ?? systemLookup)(t.host, o.timeoutMs ?? 5_000);
  return found.length ? { via: 'tailnet', target: t } : { via: 'target', why: `${t.host} does not resolve here (this machine is not on the tailnet, or MagicDNS is off)` };
}

/**
 * The route of a later run to an installed host (status, deploy): `loginText` (the manifest's
 * target as the host is logged into) or the same user and port at the recorded tailnet `name`.
 * Default: the name when it resolves here; `route` forces one.
 * @throws usageError 'no-tailnet-name' for route 'tailnet' without a recorded name
 */
export async function chooseManifestRoute(
  ports: ResolvePorts, host: string, loginText: string, name: string | undefined,
  o: { route?: 'tailnet' | 'target'; sshConfig?: string; lookup?: NameLookup },
): Promise<{ text: string; via?: 'tailnet' | 'target' }> {
  if (o.route === 'target') return { text: loginText, via: 'target' };
  if (name === undefined) {
    if (o.route === 'tailnet') throw usageError('no-tailnet-name', `--via tailnet: ${host}'s manifest records no [tailscale] name`, 'set [tailscale] tailnet in bootstrap.toml before the install (or add [tailscale] name = "HOST.TAILNET" to the manifest), or leave --via out');
    return { text: loginText };
  }
  const text = buildTailnetTargetText(parseTarget(loginText), name);
  if (o.route === 'tailnet') return { text, via: 'tailnet' };
  const r = await chooseTailnetRoute(ports, text, o);
  if (r.via === 'tailnet') return { text, via: 'tailnet' };
  ports.debug?.(`${host}: ${r.why}; using its target ${loginText}`);
  return { text: loginText, via: 'target' };
}

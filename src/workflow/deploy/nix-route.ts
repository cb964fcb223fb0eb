/**
 * The route nix's own ssh takes to the host (issues 20 and 21): `nix copy --to ssh-ng://…` and
 * `nix build --store ssh-ng://…` (--build-on remote) run `ssh` from PATH, so the install's ssh
 * guard (installer/ssh-guard.ts) goes first on nix's PATH, in a private directory of this run: it
 * pins the host's key and every jump host's key under their own names (the flake's pins, what the
 * probe checked), reaches the jump hosts through itself (ProxyCommand, never the config's
 * ProxyJump, which would start the real ssh without the pins), and records each connection's bytes
 * (OpenSSH's LogLevel=VERBOSE counter). A key that is not pinned fails the handshake, before
 * anything is sent; a hop's, before the host is contacted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../../context.js';
import { failure } from '../../errors.js';
import { readPinnedJumpLines, readPinnedKeys } from '../../installer/guard-pins.js';
import { buildGuardJumps, buildGuardPins, prepareSshGuard, type GuardEvent } from '../../installer/ssh-guard.js';
import { findOnPath } from '../../nix/nixos-anywhere.js';
import { formatResolvedTarget, type ResolvedTarget } from '../../ssh/ssh-config.js';
import { formatTarget, knownHostsName, type SshTarget } from '../../ssh/target.js';
import { buildNixSshOpts } from './nix.js';

/** What nix's ssh connections sent and received, summed. */
export interface RouteTransfer {
  sentBytes: number;
  receivedBytes: number;
  connections: number;
}

export interface NixRoute {
  /** Environment for nix: the guard first on PATH, its settings, NIX_SSHOPTS. */
  env: Record<string, string>;
  /** The connections that ended so far, summed. */
  transfer(): Promise<RouteTransfer>;
  events(): Promise<GuardEvent[]>;
  /** Remove the guard's directory (pins, records). */
  close(): Promise<void>;
}

/** Open the guard for nix's ssh to `target`, pinned with the keys of `pinFile`. */
export async function openNixRoute(app: Pick<AppContext, 'env'>, target: SshTarget, pinFile: string): Promise<NixRoute> {
  const realSsh = findOnPath('ssh', app.env);
  if (!realSsh) throw failure('missing-tool', 'ssh was not found on PATH', 'install OpenSSH (Debian: apt-get install openssh-client)');
  const name = knownHostsName(target);
  const keys = await readPinnedKeys(pinFile, [name]);
  if (!keys.length) throw failure('no-pinned-key', `no host key of ${formatTarget(target)} is pinned in ${pinFile}`, `pin it first: \`bootstrap probe ${formatResolvedTarget(target)}\` shows it and asks`);
  const pins = buildGuardPins([name], keys) + (await readPinnedJumpLines(pinFile, target));
  const r = target as ResolvedTarget;
  const dir = await mkdtemp(join(tmpdir(), 'nb-deploy-ssh-'));
  try {
    const guard = await prepareSshGuard(dir, {
      realSsh, pins, path: app.env.PATH,
      ...(r.jumps?.length ? { jumps: buildGuardJumps(r.jumps) } : {}),
      ...(r.sshConfig ? { configFile: r.sshConfig } : {}),
    });
    return {
      env: { ...guard.env, NIX_SSHOPTS: buildNixSshOpts(target) },
      async transfer() {
        // A jump host's connection wraps the inner one's packets: counted once, with the inner one.
        const all = (await guard.transfers()).filter((t) => !t.hop);
        return { sentBytes: all.reduce((n, t) => n + t.sent, 0), receivedBytes: all.reduce((n, t) => n + t.received, 0), connections: all.length };
      },
      events: () => guard.events(),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

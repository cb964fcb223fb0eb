/**
 * SSH choices (from flags, an answers file or a manifest) → the target value and the SshOptions of
 * session.ts, with one host key policy for the run. The flags themselves are read in cli/ssh-flags.ts.
 */
import { resolve } from 'node:path';
import type { AppContext } from '../context.js';
import { usageError } from '../errors.js';
import { parseFingerprint } from './host-keys.js';
import { HostKeyPolicy } from './host-key-policy.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, type SshOptions } from './session.js';
import { expandHome, resolveTarget, type ResolvedTarget } from './ssh-config.js';
import { parseTarget, type SshTarget } from './target.js';

/** `--timeout SECONDS` (fractions allowed) → milliseconds. */
export function parseTimeoutSeconds(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_CONNECT_TIMEOUT_MS;
  const s = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(s > 0) || s > 3600) {
    throw usageError('bad-flag', `--timeout must be a number of seconds from 0.1 to 3600, got "${raw}"`, 'e.g. --timeout 30 for a slow link; the default is 10');
  }
  return Math.max(100, Math.round(s * 1000));
}

export interface SshArgs {
  target: SshTarget;
  ssh: SshOptions;
}

/** Plain SSH choices, from flags or an answers file. */
export interface SshChoices {
  target: string;
  identity?: string;
  hostKey?: string;
  acceptNewHostKey?: boolean;
  /** Seconds, as text (flag) or a number (answers file). */
  timeout?: string | number;
  passwordEnv?: string;
  /** --ssh-config FILE: the ssh_config(5) file to resolve the target with (ssh -F). */
  sshConfig?: string;
  flakeDir: string;
  /** bootstrap.toml's stateDir, where pins are kept (default .bootstrap). */
  stateDir?: string;
}

/** SSH choices → the target value and SshOptions, with one host key policy for the run. */
export function buildSshFromChoices(ctx: Pick<AppContext, 'out' | 'prompts' | 'env' | 'cwd'>, c: SshChoices): SshArgs {
  // `~/…` from an answers file or a manifest is expanded here: nixos-anywhere copies -i literally.
  const identity = c.identity ? resolve(ctx.cwd, expandHome(c.identity, ctx.env.HOME)) : undefined;
  const target = parseTarget(c.target, identity ? { identityFile: identity } : {});
  const hostKeys = new HostKeyPolicy(ctx, { flakeDir: c.flakeDir, ...(c.stateDir ? { stateDir: c.stateDir } : {}), acceptNew: c.acceptNewHostKey === true });
  if (c.hostKey !== undefined) hostKeys.pin(target, parseFingerprint(c.hostKey));
  if (c.passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.passwordEnv)) {
    throw usageError('bad-flag', `--password-env takes the NAME of an environment variable, got "${c.passwordEnv}"`, 'e.g. --password-env INSTALLER_PASSWORD, after export INSTALLER_PASSWORD=…');
  }
  return {
    target,
    ssh: {
      hostKeys,
      timeoutMs: parseTimeoutSeconds(c.timeout === undefined ? undefined : String(c.timeout)),
      ...(identity ? { identityFile: identity } : {}),
      ...(c.passwordEnv ? { passwordEnv: c.passwordEnv } : {}),
    },
  };
}

/**
 * SSH choices → the target resolved with the user's ssh config (ssh-config.ts: HostName, Port,
 * User, IdentityFile, IdentityAgent, ProxyJump) and SshOptions. `--host-key` pins the resolved
 * address, where the connection checks it.
 */
export async function resolveSshFromChoices(ctx: Pick<AppContext, 'out' | 'prompts' | 'env' | 'cwd' | 'run'>, c: SshChoices): Promise<SshArgs & { target: ResolvedTarget }> {
  const fingerprint = c.hostKey !== undefined ? parseFingerprint(c.hostKey) : undefined;
  const { target: parsed, ssh } = buildSshFromChoices(ctx, { ...c, hostKey: undefined });
  const configFile = c.sshConfig ? resolve(ctx.cwd, c.sshConfig) : undefined;
  const target = await resolveTarget({ run: ctx.run, env: ctx.env, debug: (m) => ctx.out.debug(m) }, c.target, parsed, configFile ? { configFile } : {});
  if (fingerprint !== undefined) ssh.hostKeys.pin(target, fingerprint);
  return { target, ssh };
}

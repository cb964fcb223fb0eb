/**
 * The SSH flags every target-reaching command shares (SSH_OPTIONS in commands/probe.ts), read
 * into the plain choices of ssh/ssh-choices.ts.
 */
import { resolve } from 'node:path';
import type { AppContext } from '../context.js';
import type { ParsedArgs } from './args.js';
import { resolveSshFromChoices, type SshArgs } from '../ssh/ssh-choices.js';

/**
 * Parse TARGET and the SSH flags, and resolve TARGET with the ssh config (ssh -G). The host key policy pins `--host-key` for this target, in the
 * flake's configured stateDir (bootstrap.toml), like every other command.
 */
export function resolveSshArgs(ctx: Pick<AppContext, 'out' | 'prompts' | 'env' | 'cwd' | 'run'>, args: ParsedArgs, targetText: string, stateDir?: string): Promise<SshArgs> {
  return resolveSshFromChoices(ctx, {
    target: targetText,
    identity: args.string('identity'),
    hostKey: args.string('host-key'),
    acceptNewHostKey: args.bool('accept-new-host-key'),
    timeout: args.string('timeout'),
    passwordEnv: args.string('password-env'),
    sshConfig: args.string('ssh-config'),
    flakeDir: resolve(ctx.cwd, args.string('flake') ?? '.'),
    ...(stateDir ? { stateDir } : {}),
  });
}

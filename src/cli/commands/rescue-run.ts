import { runRescue } from '../../workflow/rescue/run-rescue.js';
import type { CommandModule } from '../spec.js';

export const runRescueCommand: CommandModule['run'] = async (ctx, args) => {
  const from = args.string('from');
  const target = args.string('target');
  const identity = args.string('identity');
  const hostKey = args.string('host-key');
  const wait = args.string('wait-timeout');
  const sshConfig = args.string('ssh-config');
  return runRescue(ctx, {
    host: args.positional(0, 'HOST'),
    flakeDir: args.string('flake') ?? '.',
    yes: args.bool('yes'),
    resume: args.bool('resume'),
    json: args.bool('json'),
    ...(from ? { from } : {}),
    ...(target ? { target } : {}),
    ...(identity ? { identity } : {}),
    ...(hostKey ? { hostKey } : {}),
    ...(sshConfig ? { sshConfig } : {}),
    ...(wait ? { waitTimeoutSeconds: args.integer('wait-timeout', 600, 1, 86_400) } : {}),
  });
};

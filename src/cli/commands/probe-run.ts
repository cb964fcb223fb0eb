/**
 * `bootstrap probe TARGET` and `bootstrap probe --from-facter FILE`. Wiring only: the probe is
 * runReadReport (the same door `plan` uses: a live probe or a facter file), the summary buildProbeSummary.
 */
import { access, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import type { CommandModule } from '../spec.js';
import { assertFlakeDirExists, loadConfig } from '../../config/load.js';
import { failure, usageError } from '../../errors.js';
import type { HardwareReport } from '../../probe/report.js';
import { buildProbeSummary } from '../../probe/summary.js';
import { runReadReport } from '../../probe/read-report.js';
import { resolveSshFromChoices } from '../../ssh/ssh-choices.js';

/**
 * Where trusted host keys are pinned: the flake's .bootstrap/ (--flake, or the current directory
 * when it is a flake), else $XDG_STATE_HOME/nixos-bootstrap, so probing from any directory does
 * not leave a .bootstrap/ behind there.
 */
async function choosePinDir(ctx: Pick<AppContext, 'cwd' | 'env'>, flake: string | undefined): Promise<{ flakeDir: string; stateDir?: string }> {
  // In a flake the pins go to its configured stateDir, where verify and status look for them.
  const inFlake = async (flakeDir: string) => ({ flakeDir, stateDir: (await loadConfig(flakeDir)).config.stateDir });
  if (flake !== undefined) return inFlake(resolve(ctx.cwd, flake));
  for (const marker of ['flake.nix', 'bootstrap.toml']) {
    try {
      await access(join(ctx.cwd, marker));
      return inFlake(ctx.cwd);
    } catch {
      // not a flake here
    }
  }
  return { flakeDir: join(ctx.env.XDG_STATE_HOME || join(ctx.env.HOME || homedir(), '.local/state'), 'nixos-bootstrap') };
}

/** --out must name a file in an existing directory: checked before the probe, as bad input. */
async function checkOutPath(ctx: { cwd: string }, out: string | undefined): Promise<void> {
  if (out === undefined) return;
  const dir = dirname(resolve(ctx.cwd, out));
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw usageError('bad-out-path', `--out ${out}: the directory ${dir} does not exist`, 'create it first, or give a path in an existing directory');
  }
}

export const run: CommandModule['run'] = async (ctx, args) => {
  const flake = args.string('flake');
  if (flake !== undefined) await assertFlakeDirExists(resolve(ctx.cwd, flake));
  await checkOutPath(ctx, args.string('out'));
  const facterFile = args.string('from-facter');
  const targetText = args.positionals[0];
  let report: HardwareReport;
  if (facterFile !== undefined) {
    if (targetText !== undefined) throw usageError('bad-argument', 'give either TARGET or --from-facter FILE, not both', 'see `bootstrap probe --help`');
    report = await runReadReport(ctx, { kind: 'facter', file: facterFile, flag: '--from-facter' });
  } else {
    const { target, ssh } = await resolveSshFromChoices(ctx, {
      target: args.positional(0, 'TARGET (user@host[:port]), or --from-facter FILE'),
      identity: args.string('identity'),
      hostKey: args.string('host-key'),
      acceptNewHostKey: args.bool('accept-new-host-key'),
      timeout: args.string('timeout'),
      passwordEnv: args.string('password-env'),
      sshConfig: args.string('ssh-config'),
      ...(await choosePinDir(ctx, args.string('flake'))),
    });
    report = await runReadReport(ctx, { kind: 'target', target, ssh });
  }

  const out = args.string('out');
  if (out !== undefined) {
    const path = resolve(ctx.cwd, out);
    try {
      await writeFile(path, JSON.stringify(report, null, 2) + '\n');
    } catch (e) {
      throw failure('write-failed', `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check that the directory exists and is writable');
    }
    ctx.out.info(`report written to ${out}`);
  }
  if (args.bool('json')) ctx.out.json(report);
  else ctx.out.data(buildProbeSummary(report));
  for (const w of report.warnings) ctx.out.debug(`probe warning: ${w}`);
  return 0;
};

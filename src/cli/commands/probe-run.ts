/**
 * `bootstrap probe TARGET` and `bootstrap probe --from-facter FILE`. Wiring only: the probe is
 * runProbe (src/probe/run-probe.ts), the conversion facterToReport, the summary buildProbeSummary.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CommandModule } from '../spec.js';
import type { AppContext } from '../../context.js';
import { failure, usageError } from '../../errors.js';
import type { HardwareReport } from '../../probe/report.js';
import { facterToReport } from '../../probe/facter.js';
import { runProbe } from '../../probe/run-probe.js';
import { buildProbeSummary } from '../../probe/summary.js';
import { formatTarget } from '../../ssh/target.js';
import { buildSshArgs } from '../ssh-options.js';

/** Read and parse a facter report file; a missing, unreadable or truncated file is bad input. */
async function readFacterFile(ctx: AppContext, file: string): Promise<HardwareReport> {
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usageError('bad-facter-file', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`, 'give the path of a report written by `nixos-facter -o facter.json`');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw usageError('bad-facter-file', `${file} is not valid JSON (${(e as Error).message.split('\n')[0]})`, 'the file may be truncated; copy it again, or re-run `nixos-facter -o facter.json` on the target');
  }
  return facterToReport(raw);
}

export const run: CommandModule['run'] = async (ctx, args) => {
  const facterFile = args.string('from-facter');
  const targetText = args.positionals[0];
  let report: HardwareReport;
  if (facterFile !== undefined) {
    if (targetText !== undefined) throw usageError('bad-argument', 'give either TARGET or --from-facter FILE, not both', 'see `bootstrap probe --help`');
    report = await readFacterFile(ctx, facterFile);
  } else {
    const { target, ssh } = buildSshArgs(ctx, args, args.positional(0, 'TARGET (user@host[:port]), or --from-facter FILE'));
    const task = ctx.out.task(`probing ${formatTarget(target)}`);
    try {
      report = await runProbe(ctx, target, ssh);
    } catch (e) {
      task.fail();
      throw e;
    }
    task.done(`${report.disks.length} disk(s), ${report.nics.length} NIC(s)`);
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

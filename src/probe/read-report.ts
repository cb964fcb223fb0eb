/**
 * Where a plan's HardwareReport comes from: a live probe over SSH (--target), a saved report
 * (--report, what `bootstrap probe --json -o FILE` wrote) or a nixos-facter file (--facter).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AppContext } from '../context.js';
import { parseWith } from '../config/validate.js';
import { usageError } from '../errors.js';
import { facterToReport } from './facter.js';
import { HardwareReportSchema, type HardwareReport } from './report.js';
import { runProbe, type ProbeOptions } from './run-probe.js';
import { sanitizeStrings } from './sanitize.js';
import { planAuth } from '../ssh/auth.js';
import { formatTarget, type SshTarget } from '../ssh/target.js';

export type ReportSource =
  | { kind: 'target'; target: SshTarget; ssh: ProbeOptions }
  | { kind: 'report'; file: string }
  | { kind: 'facter'; file: string; /** the flag that named the file, for messages (default --facter) */ flag?: string };

async function readJsonFile(ctx: Pick<AppContext, 'cwd'>, file: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(ctx.cwd, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usageError('bad-report-file', `cannot read ${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`, `give the path of an existing file to ${flag}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw usageError('bad-report-file', `${flag} ${file} is not valid JSON (${(e as Error).message.split('\n')[0]})`, 'the file may be truncated; write it again');
  }
}

/**
 * Get the report, with every string from the target shown escaped (sanitize.ts). Throws usage
 * errors for unreadable or invalid files; probe errors from runProbe.
 */
export async function runReadReport(ctx: AppContext, source: ReportSource): Promise<HardwareReport> {
  return sanitizeStrings(await readReport(ctx, source));
}

async function readReport(ctx: AppContext, source: ReportSource): Promise<HardwareReport> {
  switch (source.kind) {
    case 'report':
      return parseWith(HardwareReportSchema, await readJsonFile(ctx, source.file, '--report'), source.file, 'give a report written by `bootstrap probe TARGET --json -o FILE`');
    case 'facter':
      return facterToReport(await readJsonFile(ctx, source.file, source.flag ?? '--facter'));
    case 'target': {
      // A missing or public -i key, an unset password variable: bad input, said before "probing …".
      planAuth({ ...(source.ssh.identityFile ? { identityFile: source.ssh.identityFile } : {}), ...(source.ssh.passwordEnv ? { passwordEnv: source.ssh.passwordEnv } : {}) }, ctx.env, () => {});
      const task = ctx.out.task(`probing ${formatTarget(source.target)}`);
      try {
        const report = await runProbe(ctx, source.target, source.ssh);
        task.done(`${report.disks.length} disk(s), ${report.nics.length} NIC(s)`);
        return report;
      } catch (e) {
        task.fail();
        throw e;
      }
    }
  }
}

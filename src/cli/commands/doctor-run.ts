import { resolve } from 'node:path';
import { BASE_CHECKS, formatChecks, runChecks } from '../../doctor/checks.js';
import { checkConfig, checkStateIgnored } from '../../doctor/config-checks.js';
import { extraDoctorChecks } from '../../doctor/extra-checks.js';
import type { CommandModule } from '../spec.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const flakeDir = resolve(ctx.cwd, args.string('flake') ?? '.');
  const [base, config] = await Promise.all([runChecks(ctx, BASE_CHECKS), checkConfig(flakeDir)]);
  const extra = config.loaded ? await extraDoctorChecks(ctx, config.loaded) : [];
  const ignored = config.loaded ? await checkStateIgnored(flakeDir, config.loaded.config.stateDir) : undefined;
  const results = [...base, config.result, ...extra, ...(ignored ? [ignored] : [])];
  const failed = results.filter((r) => r.required && r.status === 'missing');
  if (args.bool('json')) ctx.out.json({ ok: failed.length === 0, checks: results });
  else {
    ctx.out.data(formatChecks(results, (c, t) => ctx.out.paint(c, t)));
    ctx.out.info(failed.length ? `\n${failed.length} required check(s) failed.` : '\nReady: nothing required is missing.');
  }
  return failed.length ? 1 : 0;
};

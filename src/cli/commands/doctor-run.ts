import { resolve } from 'node:path';
import { BASE_CHECKS, formatChecks, runChecks } from '../../doctor/checks.js';
import { assertFlakeDirExists } from '../../config/load.js';
import { checkConfig, checkStateIgnored } from '../../doctor/config-checks.js';
import { extraDoctorChecks } from '../../doctor/extra-checks.js';
import { leftoverSecretsCheck } from '../../doctor/leftover-secrets.js';
import type { CommandModule } from '../spec.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const flakeDir = resolve(ctx.cwd, args.string('flake') ?? '.');
  await assertFlakeDirExists(flakeDir); // a mistyped --flake is bad input (exit 2), not a failed check
  const [base, config] = await Promise.all([runChecks(ctx, BASE_CHECKS), checkConfig(flakeDir)]);
  const extra = config.loaded ? await extraDoctorChecks(ctx, config.loaded) : [];
  const ignored = config.loaded ? await checkStateIgnored(flakeDir, config.loaded.config.stateDir) : undefined;
  const leftovers = await leftoverSecretsCheck(ctx.env);
  const results = [...base, config.result, ...extra, ...(ignored ? [ignored] : []), leftovers];
  const failed = results.filter((r) => r.required && r.status === 'missing');
  if (args.bool('json')) ctx.out.json({ ok: failed.length === 0, checks: results });
  else {
    ctx.out.data(formatChecks(results, (c, t) => ctx.out.paint(c, t)));
    ctx.out.info(failed.length ? `\n${failed.length} required check(s) failed.` : '\nReady: nothing required is missing.');
  }
  return failed.length ? 1 : 0;
};

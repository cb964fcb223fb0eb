/**
 * `bootstrap rebuild --hosts a,b,c --parallel N`: the same unattended rebuild for many hosts at
 * once. Each host gets its own output (prefixed on the terminal, whole in its own log file) and
 * its own lock and journal; one host's failure never stops the others. The summary says who
 * failed and why, and the exit code is non-zero when anyone did.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createPrompter } from '../../ports/prompter.js';
import type { AppContext } from '../../context.js';
import { loadConfig } from '../../config/load.js';
import { isBootstrapError, messageOf } from '../../errors.js';
import { redact } from '../../redact.js';
import { hostOutput } from '../shared/host-output.js';
import type { InstallAnswers } from '../install/answers.js';
import { runRebuild } from '../rebuild/index.js';
import { runPool } from '../shared/pool.js';
import { buildLogStamp, statePaths } from '../../config/state-paths.js';

export interface FleetOptions {
  hosts: string[];
  parallel: number;
  answers: InstallAnswers;
  flakeDir: string;
  resume: boolean;
  json: boolean;
}

export interface FleetResult {
  host: string;
  ok: boolean;
  /** Installed, but its health report has failing checks (the host's log shows which). */
  unhealthy?: boolean;
  seconds: number;
  error?: { code: string; message: string };
  log: string;
}

export function buildFleetTable(results: FleetResult[]): string {
  const w = Math.max(4, ...results.map((r) => r.host.length)) + 2;
  const rows = results.map((r) => `${r.host.padEnd(w)}${(r.ok ? (r.unhealthy ? 'unhealthy' : 'ok') : 'FAILED').padEnd(10)}${`${r.seconds.toFixed(1)}s`.padEnd(9)}${r.ok ? '' : r.error!.message}`);
  return [`${'HOST'.padEnd(w)}${'STATUS'.padEnd(10)}${'TIME'.padEnd(9)}DETAIL`, ...rows].join('\n');
}

export async function runFleet(app: AppContext, o: FleetOptions): Promise<FleetResult[]> {
  const flakeDir = resolve(app.cwd, o.flakeDir);
  const { config } = await loadConfig(flakeDir);
  const paths = statePaths(flakeDir, config.stateDir);
  const logDir = paths.logs;
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const stamp = buildLogStamp(app.clock.now());
  app.out.info(`rebuilding ${o.hosts.length} host(s), ${o.parallel} at a time; per-host logs in ${logDir}`);

  const results = await runPool(o.hosts, o.parallel, async (host): Promise<FleetResult> => {
    const logPath = paths.fleetLog(host, stamp);
    const { out, close } = hostOutput(app, host, logPath);
    const started = Date.now();
    try {
      // Unattended by definition: no prompts, and --yes (the manifest disk check confirms).
      const hostApp: AppContext = { ...app, out, prompts: createPrompter(false) };
      const code = await runRebuild(hostApp, { mode: 'rebuild', host, answers: { ...o.answers, yes: true }, flakeDir, resume: o.resume, dryRun: false, json: false });
      return { host, ok: true, ...(code === 3 ? { unhealthy: true } : {}), seconds: (Date.now() - started) / 1000, log: logPath };
    } catch (e) {
      out.error(messageOf(e));
      const code = isBootstrapError(e) ? e.code : 'internal';
      return { host, ok: false, seconds: (Date.now() - started) / 1000, error: { code, message: redact(messageOf(e)) }, log: logPath };
    } finally {
      close();
    }
  });
  if (o.json) app.out.json({ ok: results.every((r) => r.ok), hosts: results });
  else app.out.data(buildFleetTable(results));
  return results;
}

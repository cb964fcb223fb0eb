/**
 * The health report at the end of new-host, rebuild and recover: the same collection as
 * `bootstrap status`, with context 'install' (the host must run exactly what preflight built).
 * It never fails the install: an unreachable host or a failing check is in the report, and the
 * caller turns a failing report into INSTALL_HEALTH_EXIT.
 */
import { createPrompter } from '../../ports/prompter.js';
import type { AppContext } from '../../context.js';
import { messageOf } from '../../errors.js';
import { readManifest } from '../../manifest/manifest.js';
import { runHealthReport } from '../../health/collect.js';
import { countChecks, type HealthReport } from '../../health/report.js';
import { formatTarget } from '../../ssh/target.js';
import { formatResolvedTarget, type ResolvedTarget } from '../../ssh/ssh-config.js';
import type { PreparedInstall } from './prepare.js';
import { buildHealthTarget } from '../shared/health-target.js';
import { buildLoginTarget } from '../../manifest/login.js';
import { buildReachPath, buildTailnetTargetText, loadReach } from '../shared/tailnet.js';
import { buildStatePath } from './state.js';

/** Exit code of an install whose host was installed but whose health report has failures. */
export const INSTALL_HEALTH_EXIT = 3;

export async function runInstallHealth(app: AppContext, p: PreparedInstall): Promise<HealthReport> {
  const task = app.out.task(`health report of ${p.host}`);
  try {
    // A fresh policy: it reads the pin verify just wrote, and never accepts another key.
    const manifest = await readManifest(p.flakeDir, p.host);
    // Over the tailnet name when verify had to go there (issue 21), else the target it was installed through.
    const reach = await loadReach(buildReachPath(buildStatePath(p.flakeDir, p.loaded.config.stateDir, p.host)));
    const login = buildLoginTarget(p.target, manifest);
    const t = await buildHealthTarget({ ...app, prompts: createPrompter(false) }, p.loaded, p.host, manifest, 'install', {
      // The installed host, as the user preflight found (or --login-user named) when root may not log in.
      target: reach.tailnetOnly ? buildTailnetTargetText(login, reach.name) : formatResolvedTarget(login as ResolvedTarget),
      ...(reach.tailnetOnly ? { via: 'tailnet' as const } : {}),
      ...((p.target as ResolvedTarget).sshConfig ? { sshConfig: (p.target as ResolvedTarget).sshConfig! } : {}),
      ...(p.target.identityFile ? { identity: p.target.identityFile } : {}),
      ...(p.ssh.passwordEnv ? { passwordEnv: p.ssh.passwordEnv } : {}),
    });
    const r = await runHealthReport(app, t);
    const c = r.counts;
    if (r.status === 'ok') task.done(`${c.ok} ok`);
    else task.fail(r.error ? r.error.message : `${c.fail} fail, ${c.warn} warn`);
    return r;
  } catch (e) {
    if (app.signal.aborted) throw e;
    task.fail();
    return {
      host: p.host, target: formatTarget(p.target), status: 'fail', collectedAt: app.clock.now().toISOString(), seconds: 0,
      checks: [], counts: countChecks([]), error: { code: 'health-failed', message: messageOf(e) },
    };
  }
}

/**
 * The end of an install: what was done, where the log is, the host's health report (issue 12), and
 * what to do next. No secrets. Returns the exit code: INSTALL_HEALTH_EXIT when the host was
 * installed but its health report has failures, else 0.
 */
import type { AppContext } from '../../context.js';
import { renderHealthReport } from '../../health/render.js';
import { INSTALL_HEALTH_EXIT, runInstallHealth } from '../status/after-install.js';
import { readHostPublicKeys } from '../../keys/host-keys.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { formatTarget } from '../../ssh/target.js';
import type { InstallOutcome } from './run-install.js';
import type { PreparedInstall } from './prepare.js';

export async function printInstallSummary(app: AppContext, p: PreparedInstall, outcome: InstallOutcome, json: boolean): Promise<number> {
  const health = await runInstallHealth(app, p);
  const code = health.status === 'fail' ? INSTALL_HEALTH_EXIT : 0;
  const pub = p.identity === 'provisioned' ? await readHostPublicKeys(await openSecretStore(p.loaded, app), p.host) : undefined;
  const summary = {
    host: p.host,
    mode: p.mode,
    target: formatTarget(p.target),
    profile: p.plan.profile.name,
    layout: p.plan.layout.name,
    installDisk: { path: p.plan.installDisk.path, byId: p.plan.installDisk.byId, sizeBytes: p.plan.installDisk.sizeBytes },
    identity: p.identity,
    ...(pub ? { hostKey: { fingerprint: pub.ssh.fingerprint, publicKey: pub.ssh.publicKey }, ageRecipient: pub.age.recipient } : {}),
    runId: outcome.runId,
    ran: outcome.ran,
    skipped: outcome.skipped,
    log: outcome.logPath,
    health,
  };
  if (json) {
    app.out.json(summary);
    return code;
  }
  app.out.success(`${p.host} is installed and presents ${pub ? pub.ssh.fingerprint : 'its original host key'}`);
  app.out.info(`  log: ${outcome.logPath}`);
  app.out.data(renderHealthReport(health, (c, t) => app.out.paint(c, t)));
  app.out.info(`  next: commit ${p.loaded.config.hostsDir}/${p.host}/ and deploy changes with nixos-rebuild --target-host ${formatTarget(p.target)}`);
  return code;
}

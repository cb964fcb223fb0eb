/** The end of an install: what was done, where the log is, and what to do next. No secrets. */
import type { AppContext } from '../../context.js';
import { readHostPublicKeys } from '../../keys/host-keys.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { formatTarget } from '../../ssh/target.js';
import type { InstallOutcome } from './run-install.js';
import type { PreparedInstall } from './prepare.js';

export async function printInstallSummary(app: AppContext, p: PreparedInstall, outcome: InstallOutcome, json: boolean): Promise<void> {
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
  };
  if (json) {
    app.out.json(summary);
    return;
  }
  app.out.success(`${p.host} is installed and presents ${pub ? pub.ssh.fingerprint : 'its original host key'}`);
  app.out.info(`  log: ${outcome.logPath}`);
  app.out.info(`  next: commit ${p.loaded.config.hostsDir}/${p.host}/ and deploy changes with nixos-rebuild --target-host ${formatTarget(p.target)}`);
}

/**
 * The end of an install: what was done, where the log is, the host's health report (issue 12), and
 * what to do next. No secrets. Returns the exit code: INSTALL_HEALTH_EXIT when the host was
 * installed but its health report has failures, else 0.
 */
import { hostDir } from '../../config/host-dir.js';
import type { AppContext } from '../../context.js';
import { renderHealthReport } from '../../health/render.js';
import { INSTALL_HEALTH_EXIT, runInstallHealth } from './health.js';
import { readHostPublicKeys } from '../../keys/host-keys.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { formatTarget, type SshTarget } from '../../ssh/target.js';
import type { LoginCheck } from '../../installer/login-keys.js';
import { buildBuiltPath } from './preflight-nix.js';
import { buildLoginCheckPath, loadLoginCheck } from './login.js';
import { buildStatePath } from './state.js';
import type { InstallOutcome } from './run-install.js';
import type { InstallTransfer } from './context.js';
import { formatBytes } from '../../installer/transfer.js';
import { buildKexecImageJson } from './kexec-delivery.js';
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
    transfer: buildTransferJson(outcome.transfer),
    kexecImage: buildKexecImageJson(p),
    health,
  };
  if (json) {
    app.out.json(summary);
    return code;
  }
  app.out.success(`${p.host} is installed and presents ${pub ? pub.ssh.fingerprint : 'its original host key'}`);
  app.out.info(`  log: ${outcome.logPath}`);
  const t = buildTransferJson(outcome.transfer);
  if (Object.keys(t.phases).length) app.out.info(`  sent from here over ssh: ${formatBytes(t.sentBytes)} (${Object.entries(t.phases).map(([ph, x]) => `${ph} ${formatBytes(x.sentBytes)}`).join(', ')}); closure ${t.closure?.from === 'cache' ? 'from the cache' : 'streamed from here'}`);
  const k = buildKexecImageJson(p);
  if (k.sha256) app.out.info(`  kexec image: ${k.from}, sha256 ${k.sha256} checked ${k.checked.split(',')[0]}`);
  app.out.data(renderHealthReport(health, (c, t) => app.out.paint(c, t)));
  const check = await loadLoginCheck(buildLoginCheckPath(buildBuiltPath(buildStatePath(p.flakeDir, p.loaded.config.stateDir, p.host))));
  for (const line of buildNextHint({ host: p.host, dir: hostDir(p.loaded.config, p.host), target: p.target, check, rootKeyRendered: rootKeyRendered(p) })) app.out.info(`  ${line}`);
  return code;
}

/**
 * The run's bytes for --json: per installer phase, what the operator's ssh connections sent and
 * received (OpenSSH's packet counter, installer/transfer.ts), their total, and the closure's source.
 * Pure.
 */
export function buildTransferJson(t: InstallTransfer) {
  const phases = Object.fromEntries(Object.entries(t.phases).map(([ph, x]) => [ph, { sentBytes: x.sent, receivedBytes: x.received, connections: x.connections }]));
  return {
    counts: 'bytes of SSH packets the installer\'s ssh connections sent from this machine (OpenSSH "Transferred: sent")',
    sentBytes: Object.values(t.phases).reduce((n, x) => n + x.sent, 0),
    phases,
    ...(t.closure ? { closure: t.closure } : {}),
  };
}

/** Our login keys went into root's authorized keys: a default.nix this run wrote (or already held them). */
function rootKeyRendered(p: PreparedInstall): boolean {
  const def = p.entries.find((e) => e.path.endsWith(`/${p.host}/default.nix`));
  return p.plan.login.fingerprints.length > 0 && (def?.action === 'create' || def?.action === 'unchanged');
}

/**
 * What to do next: commit, and deploy as a user who can log in (issue 11: the hint used to name
 * root@ for a host root cannot log into). `check` is preflight's answer to who holds the operator's
 * key; without it (an older run) root is named only when this run wrote the operator's key for it.
 * nixos-rebuild takes no port in --target-host, so a port goes in NIX_SSHOPTS. Pure.
 */
export function buildNextHint(o: { host: string; dir: string; target: SshTarget; check: LoginCheck | undefined; rootKeyRendered: boolean }): string[] {
  const user = o.check?.kind === 'ok' ? o.check.user : o.check === undefined && o.rootKeyRendered ? 'root' : undefined;
  const commit = `next: commit ${o.dir}/`;
  if (user === undefined) {
    const why =
      o.check?.kind === 'others'
        ? `your key cannot log into ${o.host} (${o.check.users.join(', ')} ha${o.check.users.length === 1 ? 's' : 've'} other keys)`
        : o.check?.kind === 'nobody'
          ? `${o.host} has no login key`
          : `no key of yours is known to log into ${o.host}`;
    return [`${commit}; ${why}: add yours to users.users.<name>.openssh.authorizedKeys.keys in ${o.dir}/default.nix, then deploy from a machine that can log in`];
  }
  const host = o.target.host.includes(':') ? `[${o.target.host}]` : o.target.host;
  const env = o.target.port === 22 ? '' : `NIX_SSHOPTS="-p ${o.target.port}" `;
  const sudo = user === 'root' ? '' : ' --use-remote-sudo';
  return [`${commit} and deploy changes with ${env}nixos-rebuild switch --flake .#${o.host} --target-host ${user}@${host}${sudo}`];
}

/**
 * Run the install steps for a prepared host: one secret directory, one log, one journal, one
 * lock. The step list is the order of the job; read it top to bottom.
 */
import type { AppContext } from '../../context.js';
import { failure } from '../../errors.js';
import { readHostKeyRef } from '../../keys/host-key-ref.js';
import { ensureHostKeys, hostSecretNames, readLuksPassphrase, readSeparateAgeKey, SHARED_ADMIN_AGE_NAME } from '../../keys/host-keys.js';
import { writeExtraFiles, type ExtraFilesInput } from '../../installer/extra-files.js';
import { describeSwept, listSecretBases, sweepStaleSecretDirs, withSecretDir } from '../../installer/secret-dir.js';
import { readProcessStart } from '../../exec/process-info.js';
import type { HostLock } from '../host-lock.js';
import { buildLogPath, openInstallLog } from '../../installer/run-phases.js';
import { installerVersionWarning, locateNixosAnywhere } from '../../nix/nixos-anywhere.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { buildJournalPaths } from '../journal.js';
import { runSteps, type RunStepsResult, type Step } from '../step.js';
import { buildKeyOptions, once, type InstallCtx, type InstallTransfer } from './context.js';
import { buildEarlierKeysPath, buildStatePath, loadEarlierKeys } from './state.js';
import type { InstallerSession } from '../../installer/installer-session.js';
import { buildBuiltPath, loadBuilt, runBuildFirst, saveBuilt } from './preflight-nix.js';
import { startInstaller } from './start-installer.js';
import { readHostSecretFiles } from './host-secret-files.js';
import { readOpnixTokenFile } from './opnix-token.js';
import { readTailscaleKeyFile } from './tailscale-key.js';
import type { PreparedInstall } from './prepare.js';
import { diskoStep, installStep, kexecStep, rebootStep, verifyStep } from './steps-install.js';
import { keysStep, preflightStep, recipientsStep, writeStep } from './steps-prepare.js';
import { restoreStep } from './steps-restore.js';
import { INSTALL_STEP_IDS, type InstallStepId } from './step-ids.js';

/** The steps by id; their order is INSTALL_STEP_IDS (step-ids.ts), which help also lists. */
const STEPS_BY_ID: Record<InstallStepId, Step<InstallCtx>> = {
  write: writeStep,
  keys: keysStep,
  recipients: recipientsStep,
  preflight: preflightStep,
  kexec: kexecStep,
  disko: diskoStep,
  install: installStep,
  reboot: rebootStep,
  verify: verifyStep,
  restore: restoreStep,
};
export const INSTALL_STEPS: readonly Step<InstallCtx>[] = INSTALL_STEP_IDS.map((id) => STEPS_BY_ID[id]);

export interface InstallRunOptions {
  resume?: boolean;
  from?: string;
  /** The journal's run id (rebuild --via-rescue: the same run as its rescue steps). */
  runId?: string;
  /** Save the run's state for --resume: only once this run holds the host lock. */
  saveState?: () => Promise<void>;
}

export interface InstallOutcome extends RunStepsResult {
  logPath: string;
  /** Bytes sent from here per installer phase of this run, and where the closure came from. */
  transfer: InstallTransfer;
}

/**
 * The files handed to the installer: our host key pair and age identity, the LUKS passphrase, and
 * the independent (per-host or fleet-shared) admin age key at [sops] separateKeyPath. With
 * --copy-host-keys the target keeps its host key, but the independent key is delivered all the
 * same (issue 11: it used to be skipped there).
 */
export async function buildExtraFilesInput(c: Pick<InstallCtx, 'plan' | 'loaded' | 'identity' | 'host' | 'store' | 'keys'>): Promise<ExtraFilesInput> {
  const encrypted = c.plan.layout.encrypted;
  const sops = c.loaded.config.sops;
  // Without sops or agenix, the host's service secrets travel in the tree (see host-secret-files.ts).
  const secretFiles = sops.mode === 'none' ? await readHostSecretFiles(await c.store(), c.host) : [];
  // OpNix hosts read 1Password themselves: their service account token goes in too (opnix-token.ts).
  const opnix = await readOpnixTokenFile(c.loaded, await c.store());
  if (opnix) secretFiles.push(opnix);
  // A host whose SSH path is its tailnet joins it with this key on first boot (tailscale-key.ts).
  const tailscale = await readTailscaleKeyFile(c.loaded.config.tailscale, await c.store());
  if (tailscale) secretFiles.push(tailscale);
  const opts = buildKeyOptions(c);
  if (c.identity === 'copy-target-keys') {
    if (opts.separateAgeKey && sops.separateKeyPath) {
      const separate = await readSeparateAgeKey(await c.store(), c.host, opts);
      if (!separate) throw failure('no-separate-age-key', `${opts.sharedAgeKey ? `the shared admin age key (${SHARED_ADMIN_AGE_NAME})` : `${c.host}'s separate age key`} is not in the secret store yet`, 'run again with --from keys');
      secretFiles.push({ path: sops.separateKeyPath, content: `${separate.identity}\n` });
    }
    return { ...(encrypted ? { luksPassphrase: await readLuksPassphrase(await c.store(), c.host) } : {}), ...(secretFiles.length ? { secretFiles } : {}) };
  }
  const k = await c.keys();
  // The independent admin age key, when configured, sits beside the host's derived one.
  if (k.separateAge && sops.separateKeyPath) secretFiles.push({ path: sops.separateKeyPath, content: `${k.separateAge.identity}\n` });
  return {
    hostKey: { privateKey: k.ssh.privateKey, publicKey: k.ssh.publicKey },
    ...(sops.mode === 'sops' ? { ageKey: { path: sops.keyPath, identity: k.age.identity } } : {}),
    ...(encrypted && k.luks ? { luksPassphrase: k.luks.passphrase } : {}),
    ...(secretFiles.length ? { secretFiles } : {}),
  };
}

export async function runInstall(app: AppContext, p: PreparedInstall, opts: InstallRunOptions = {}): Promise<InstallOutcome> {
  const installer = locateNixosAnywhere(app.env);
  const otherVersion = installerVersionWarning(installer);
  if (otherVersion) app.out.warn(otherVersion);
  const stateDir = p.loaded.config.stateDir;
  const log = openInstallLog(buildLogPath(p.flakeDir, p.host, app.clock.now(), stateDir));
  const statePath = buildStatePath(p.flakeDir, stateDir, p.host);
  const earlierKeysPath = buildEarlierKeysPath(statePath);
  const builtPath = buildBuiltPath(statePath);
  const transfer: InstallTransfer = { phases: {} };
  try {
    const result = await withSecretDir(
      async (secretDir) => {
        const store = once(() => openSecretStore(p.loaded, app));
        let session: Promise<InstallerSession> | undefined;
        let held: HostLock | undefined;
        const c: InstallCtx = {
          ...p,
          app,
          out: app.out,
          signal: app.signal,
          clock: app.clock,
          secretDir,
          installer,
          log,
          earlierKeys: new Set(opts.resume || opts.from ? await loadEarlierKeys(earlierKeysPath) : []),
          earlierKeysPath,
          store,
          keys: once(async () => {
            const s = await store();
            const sshKeyRef = await readHostKeyRef(p.loaded, p.host, s);
            if (!sshKeyRef && !(await s.exists(hostSecretNames(p.host).sshKey))) {
              throw failure('no-host-keys', `${p.host} has no host key in the secret store yet`, 'run again with --from keys');
            }
            return (await ensureHostKeys(s, p.host, { ...buildKeyOptions(p), ...(sshKeyRef ? { sshKeyRef } : {}) })).keys;
          }),
          extraFiles: once(async () => writeExtraFiles(secretDir, await buildExtraFilesInput(c))),
          builtPath,
          built: once(async () => {
            const earlier = await loadBuilt(builtPath);
            if (earlier) return earlier;
            // A resumed run whose store paths are gone (garbage-collected): build again, the same way.
            const task = app.out.task('build the system again (the earlier build is gone)');
            try {
              const built = await runBuildFirst(c, task);
              await saveBuilt(builtPath, built);
              task.done();
              return built;
            } catch (e) {
              task.fail();
              throw e;
            }
          }),
          recordInstaller: (pgid) => {
            const start = readProcessStart(pgid);
            held?.update({ installer: { pgid, ...(start ? { start } : {}) } }).catch((e: unknown) => app.out.debug(`could not record the installer in the lock: ${String(e)}`));
          },
          installerSession: (first) => (session ??= startInstaller(c, first)),
          transfer,
        };
        const { saveState, ...how } = opts;
        // Once the lock is ours (a refused run changes nothing): note our secret directory in it, wipe
        // what killed runs left (the lock takeover has stopped this host's left-over installer), save state.
        const onLocked = async (lock: HostLock | undefined) => {
          held = lock;
          await lock?.update({ secretDir });
          for (const d of await sweepStaleSecretDirs(listSecretBases(app.env))) app.out.warn(describeSwept(d));
          await saveState?.();
        };
        return runSteps(INSTALL_STEPS, c, { journal: buildJournalPaths(p.flakeDir, p.host, stateDir), ...how, onLocked });
      },
      { env: app.env, warn: (t) => app.out.warn(t) },
    );
    return { ...result, logPath: log.path, transfer };
  } finally {
    log.close();
  }
}

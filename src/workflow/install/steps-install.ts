/**
 * The steps that change the target: nixos-anywhere one phase at a time (kexec, disko, install,
 * reboot), then the check that the rebooted host presents the key we expect, then (recover) the
 * restore of its backups. Each phase is its own journaled step, so --resume continues at the
 * phase that failed.
 */
import { failure } from '../../errors.js';
import { parsePublicKeyLine, runWaitForProvisionedKey, buildKnownHostsPath, DEFAULT_HOST_KEY_DEADLINE_MS } from '../../install/wait-host-key.js';
import { runInstallPhase } from '../../install/run-phases.js';
import type { NixosAnywhereOptions, Phase } from '../../nix/nixos-anywhere.js';
import type { HostKey } from '../../ssh/host-keys.js';
import { fetchHostKey } from '../../ssh/wait-host-key.js';
import type { Step } from '../step.js';
import type { InstallCtx } from './context.js';
import { saveEarlierKeys } from './state.js';

type C = InstallCtx;

/** nixos-anywhere options for this run. The secret files exist only for the phases that read them. */
export async function buildInstallerOptions(c: C, phase: Phase): Promise<NixosAnywhereOptions> {
  const needsSecrets = phase === 'disko' || phase === 'install';
  const files = needsSecrets ? await c.extraFiles() : undefined;
  return {
    flake: c.flakeDir,
    host: c.host,
    target: c.target,
    ...(c.target.identityFile ? { identityFile: c.target.identityFile } : {}),
    ...(files && c.identity === 'provisioned' ? { extraFilesDir: files.extraFilesDir } : {}),
    ...(files && c.identity === 'copy-target-keys' ? { extraFilesDir: files.extraFilesDir, copyHostKeys: true } : {}),
    ...(files?.diskEncryptionKeyFile ? { diskEncryptionKeys: [{ remotePath: '/tmp/secret.key', localPath: files.diskEncryptionKeyFile }] } : {}),
    ...(c.answers.buildOn ? { buildOn: c.answers.buildOn } : {}),
    ...(c.answers.noDiskoDeps ? { noDiskoDeps: true } : {}),
    ...(c.out.debugEnabled ? { debug: true } : {}),
  };
}

/** Note the key the target presents now (original system or installer): verify tolerates it. */
export async function rememberTargetKey(c: Pick<C, 'target' | 'ssh' | 'earlierKeys' | 'earlierKeysPath' | 'out'>, what: string): Promise<void> {
  try {
    const key = await fetchHostKey(c.target, c.ssh.timeoutMs ?? 10_000);
    c.earlierKeys.add(key.fingerprint);
    await saveEarlierKeys(c.earlierKeysPath, c.earlierKeys);
  } catch (e) {
    c.out.debug(`could not read the ${what} host key: ${(e as Error).message}`);
  }
}

function phaseStep(phase: Phase, title: string, extra: Partial<Step<C>> = {}): Step<C> {
  return {
    id: phase,
    title,
    async run(c, progress) {
      const options = await buildInstallerOptions(c, phase);
      await runInstallPhase(c.app, phase, { command: c.installer, options, log: c.log }, progress);
      // The installer's own key answers until the reboot: tolerated by verify, never pinned.
      if (phase === 'kexec') await rememberTargetKey(c, 'installer');
    },
    ...extra,
  };
}

export const kexecStep = phaseStep('kexec', 'boot the NixOS installer (kexec)', {
  skip: (c) => (c.report.os.isInstaller ? 'the target already runs a NixOS installer' : false),
});
export const diskoStep = phaseStep('disko', 'partition and format the disk (disko)');
export const installStep = phaseStep('install', 'install NixOS');
export const rebootStep = phaseStep('reboot', 'reboot into the installed system');

/** The key the installed system must present: ours, or with --copy-host-keys the target's own. */
async function expectedKey(c: C): Promise<HostKey> {
  if (c.identity === 'provisioned') return parsePublicKeyLine((await c.keys()).ssh.publicKey);
  const pinned = c.answers.hostKey;
  const original = [...c.earlierKeys][0];
  if (!original && !pinned) throw failure('no-original-key', 'the original host key of the target is not known in this run', 'run again with --host-key SHA256:… of the original key');
  return { type: 'ssh-ed25519', blob: Buffer.alloc(0), fingerprint: (pinned ?? original)! };
}

export const verifyStep: Step<C> = {
  id: 'verify',
  title: 'wait for the installed system and check its host key',
  async run(c, progress) {
    const expected = await expectedKey(c);
    const tolerate = [...c.earlierKeys].filter((f) => f !== expected.fingerprint);
    const key = await runWaitForProvisionedKey(c.clock, c.target, {
      expected,
      tolerate,
      deadlineMs: c.answers.waitTimeout ? c.answers.waitTimeout * 1000 : DEFAULT_HOST_KEY_DEADLINE_MS,
      intervalMs: 2_000,
      knownHostsFile: buildKnownHostsPath(c.flakeDir, c.loaded.config.stateDir),
      signal: c.signal,
      onAttempt: (d) => progress.update(d),
    });
    progress.update(`presents ${key.fingerprint}, pinned`);
  },
};

/**
 * Start the run's one installer call: the phases left from `first`, the store paths preflight
 * built, the secret tree, and the ssh guard with the pinned keys ahead of the real ssh.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { failure, usageError } from '../../errors.js';
import { InstallerSession } from '../../installer/installer-session.js';
import { buildGuardJumps, buildGuardPins, buildPinNames, prepareSshGuard } from '../../installer/ssh-guard.js';
import { parsePublicKeyLine } from '../../installer/wait-host-key.js';
import { buildInstallerArgv, findOnPath, type Phase } from '../../nix/nixos-anywhere.js';
import { registerSecret } from '../../redact.js';
import type { HostKey } from '../../ssh/host-keys.js';
import { formatTarget } from '../../ssh/target.js';
import type { ResolvedTarget } from '../../ssh/ssh-config.js';
import { readPinnedJumpLines as readJumpLines, readPinnedKeys } from '../../installer/guard-pins.js';
import type { InstallCtx } from './context.js';
import { buildInstallerOptions, planInstallerPhases, planPhaseTimeouts, planPostKexecPort } from './installer-options.js';
import { runPrepareClosureSource } from './closure-cache.js';
import { runVerifyKexecImage } from '../../installer/kexec-image.js';
import { runPrepareKexecTarball } from './kexec-delivery.js';

type C = InstallCtx;

/**
 * The keys pinned for the target (its own port and the installer's), from the flake's pins: what
 * the probe trusted. The installer keeps them across kexec, so they pin it too.
 */
export async function readPinnedTargetKeys(c: Pick<C, 'ssh' | 'target' | 'answers'>): Promise<HostKey[]> {
  const file = c.ssh.hostKeys.pinFile;
  const out = await readPinnedKeys(file, buildPinNames(c.target.host, [c.target.port, planPostKexecPort(c)]));
  if (!out.length) {
    throw failure('no-pinned-key', `no host key of ${formatTarget(c.target)} is pinned in ${file}`, `pin it first: \`bootstrap probe ${formatTarget(c.target)}\` shows it and asks (or pass --host-key SHA256:…), then run again with --resume`);
  }
  return out;
}

/**
 * The guard's lines for the jump hosts (issue 20): each hop's keys pinned in the flake (the probe
 * checked them: pinned, known_hosts or confirmed), under the hop's own name (guard-pins.ts).
 */
export async function readPinnedJumpLines(c: Pick<C, 'ssh' | 'target'>): Promise<string> {
  return readJumpLines(c.ssh.hostKeys.pinFile, c.target);
}

function passwordFor(c: C): Record<string, string> {
  const name = c.ssh.passwordEnv;
  if (!name) return {};
  const value = c.app.env[name];
  if (!value) throw usageError('no-password', `$${name} is empty or not set`, `export ${name}=… (the target's password), then run again with --resume`);
  registerSecret(value);
  return { SSHPASS: value }; // nixos-anywhere --env-password runs `sshpass -e`
}

export async function startInstaller(c: C, first: Phase): Promise<InstallerSession> {
  const phases = planInstallerPhases(first);
  // An operator-supplied kexec image boots only with the pinned content: checked right before the call.
  if (phases.includes('kexec') && c.answers.kexecImage) await runVerifyKexecImage(c.answers.kexecImage, c.answers.kexecSha256 ?? '');
  // A downloaded one (url/cache) is on the target, checked there, and checked again by the small
  // tarball's kexec/run right before it boots (kexec-delivery.ts).
  const kexecTarball = phases.includes('kexec') && !c.report.os.isInstaller ? await runPrepareKexecTarball(c) : undefined;
  const built = await c.built();
  const files = { ...(await c.extraFiles()), ...(kexecTarball ? { kexecTarball } : {}) };
  const pinned = await readPinnedTargetKeys(c);
  const provisioned = c.identity === 'provisioned' ? [parsePublicKeyLine((await c.keys()).ssh.publicKey)] : [];
  const postKexecPort = planPostKexecPort(c);
  const realSsh = findOnPath('ssh', c.app.env);
  if (!realSsh) throw failure('missing-tool', 'ssh was not found on PATH', 'install OpenSSH (Debian: apt-get install openssh-client)');
  const guard = await prepareSshGuard(join(c.secretDir, 'ssh-guard'), {
    realSsh,
    pins: buildGuardPins(buildPinNames(c.target.host, [c.target.port, postKexecPort]), [...pinned, ...provisioned]) + (await readPinnedJumpLines(c)),
    path: c.app.env.PATH,
    ...((c.target as ResolvedTarget).jumps?.length ? { jumps: buildGuardJumps((c.target as ResolvedTarget).jumps!) } : {}),
    ...((c.target as ResolvedTarget).sshConfig ? { configFile: (c.target as ResolvedTarget).sshConfig! } : {}),
  });
  // Where the closure comes from (the fleet cache or this machine), said before the call starts. The
  // cache settings reach the installer in the disko phase (installer-options.ts): a call without it
  // copies nothing (a resumed reboot) or finds them in the installer's RAM from the earlier call.
  const copies = phases.includes('disko');
  const closure = copies ? await runPrepareClosureSource(c, built) : { source: undefined, uploads: [] };
  if (closure.source) {
    c.transfer.closure = closure.source;
    c.out.info(`closure: ${closure.source.from === 'cache' ? 'from the cache' : built.kind === 'local' ? 'streamed from here over ssh' : 'built on the target'}: ${closure.source.reason}`);
  }
  const options = buildInstallerOptions(c, phases, built, { ...files, installerUploads: closure.uploads }, { debug: c.out.debugEnabled });
  // The script copies the -i key into $TMPDIR and removes it only in an EXIT trap: keep that copy
  // inside the run's private directory, which bootstrap removes whatever happens to the script.
  const tmp = join(c.secretDir, 'installer-tmp');
  await mkdir(tmp, { mode: 0o700 });
  const session = new InstallerSession(
    { run: c.app.run, signal: c.signal, debug: (t) => c.out.debug(t) },
    {
      argv: buildInstallerArgv(c.installer.prefix, options, phases),
      env: { ...guard.env, TMPDIR: tmp, ...passwordFor(c) },
      phases,
      timeoutsMs: planPhaseTimeouts(c),
      wait: { user: c.target.user, host: c.target.host, port: options.connectPort ?? c.target.port, postKexecPort },
      log: c.log,
      guardEvents: () => guard.events(),
      guardTransfers: () => guard.transfers(),
      pinned: pinned.map((k) => k.fingerprint),
      onStarted: (pgid) => c.recordInstaller(pgid),
    },
  );
  session.start();
  return session;
}

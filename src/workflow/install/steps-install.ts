/**
 * The steps that change the target: the phases of the one nixos-anywhere call (kexec, disko,
 * install, reboot), then the check that the rebooted host presents the key we expect, then
 * (recover) the restore of its backups. Each phase is its own journaled step, so --resume
 * continues at the phase that failed (with a new call for the phases left).
 */
import { failure } from '../../errors.js';
import { fetchHostKey } from '../../ssh/fetch-host-key.js';
import { parsePublicKeyLine, runWaitForProvisionedKey, DEFAULT_HOST_KEY_DEADLINE_MS } from '../../installer/wait-host-key.js';
import { phaseTitle, type Phase } from '../../nix/phases.js';
import type { HostKey } from '../../ssh/host-keys.js';
import type { Step } from '../step.js';
import { formatBytes } from '../../installer/transfer.js';
import type { InstallCtx } from './context.js';
import { buildReachPath, buildTailnetTargetText, loadReach, resolveTailnetTarget, runWaitOverTailnet } from '../shared/tailnet.js';
import { buildStatePath } from './state.js';
import type { ResolvedTarget } from '../../ssh/ssh-config.js';
import { formatTarget } from '../../ssh/target.js';

type C = InstallCtx;

/**
 * A phase of the one installer call, titled as in the phase table (nix/phases.ts): the first
 * phase step that runs starts the call with every phase left; each step then waits until the
 * script moves past its phase.
 */
function phaseStep(phase: Phase): Step<C> {
  return {
    id: phase,
    title: phaseTitle(phase),
    async run(c, progress) {
      const session = await c.installerSession(phase);
      await session.phase(phase, progress);
      const t = await session.transfer(phase);
      c.transfer.phases[phase] = t;
      const sent = `sent ${formatBytes(t.sent)} over ${t.connections} ssh connection${t.connections === 1 ? '' : 's'}`;
      progress.update(phase === 'kexec' && c.report.os.isInstaller ? `the target already runs a NixOS installer; ${sent}` : sent);
      return { transfer: { sentBytes: t.sent, receivedBytes: t.received, connections: t.connections } };
    },
  };
}

export const kexecStep = phaseStep('kexec');
export const diskoStep = phaseStep('disko');
export const installStep = phaseStep('install');
export const rebootStep = phaseStep('reboot');

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
    const deadlineMs = c.answers.waitTimeout ? c.answers.waitTimeout * 1000 : DEFAULT_HOST_KEY_DEADLINE_MS;
    // A host reachable only over its tailnet is checked there, once it joined (issue 21): the
    // public address is firewalled, and whoever answers there proves nothing.
    const reach = await loadReach(buildReachPath(buildStatePath(c.flakeDir, c.loaded.config.stateDir, c.host)));
    if (reach.tailnetOnly) {
      const target = await resolveTailnetTarget({ run: c.app.run, env: c.app.env }, buildTailnetTargetText(c.target, reach.name), (c.target as ResolvedTarget).sshConfig ? { sshConfig: (c.target as ResolvedTarget).sshConfig! } : {});
      const key = await runWaitOverTailnet({
        clock: c.clock, target, expected, tolerate, deadlineMs, intervalMs: 2_000, knownHostsFile: c.ssh.hostKeys.pinFile, signal: c.signal,
        via: { ports: c.app, hostKeys: c.ssh.hostKeys }, onAttempt: (d) => progress.update(d),
      });
      progress.update(`presents ${key.fingerprint} over the tailnet as ${formatTarget(target)}, pinned`);
      return { detail: `over the tailnet: ${reach.name}` };
    }
    const key = await runWaitForProvisionedKey(c.clock, c.target, {
      expected,
      tolerate,
      deadlineMs,
      intervalMs: 2_000,
      knownHostsFile: c.ssh.hostKeys.pinFile,
      signal: c.signal,
      onAttempt: (d) => progress.update(d),
      // Behind a jump host each attempt goes through it, its key checked as on every connection.
      probe: (t, ms, alg) => fetchHostKey(t, ms, alg, { ports: c.app, hostKeys: c.ssh.hostKeys }),
    });
    progress.update(`presents ${key.fingerprint}, pinned`);
  },
};

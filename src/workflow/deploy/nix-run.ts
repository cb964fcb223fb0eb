/**
 * deploy's nix calls and the copy's route: nix's ssh goes through the ssh guard (nix-route.ts: every
 * hop's key pinned, bytes counted), and the copy comes from the fleet cache when the host trusts it
 * (copy-route.ts, loaded only for a copy).
 */
import { failure } from '../../errors.js';
import { CommandFailed } from '../../exec/run.js';
import { withSecretDir } from '../../installer/secret-dir.js';
import { openSession, type SshSession } from '../../ssh/session.js';
import { formatTarget } from '../../ssh/target.js';
import type { StepRecord } from '../step.js';
import type { CopyRoute } from './copy-route.js';
import { openNixRoute, type RouteTransfer } from './nix-route.js';
import type { DeployCtx } from './steps.js';

const NIX_TIMEOUT_MS = 60 * 60_000;

/**
 * Run nix with its ssh through the guard (nix-route.ts). A failure names the refused host key
 * when the guard saw one; what the connections sent is returned either way.
 */
export async function runDeployNix(c: DeployCtx, argv: string[], overSsh: boolean): Promise<{ stdout: string; transfer: RouteTransfer }> {
  const what = argv.includes('copy') ? 'copy' : 'build';
  const route = overSsh ? await openNixRoute(c.app, c.health.target, c.health.ssh.hostKeys.pinFile) : undefined;
  try {
    try {
      const r = await c.app.run(argv, { cwd: c.flakeDir, signal: c.signal, timeoutMs: NIX_TIMEOUT_MS, env: route?.env ?? {}, group: true });
      return { stdout: r.stdout, transfer: (await route?.transfer()) ?? { sentBytes: 0, receivedBytes: 0, connections: 0 } };
    } catch (e) {
      if (!(e instanceof CommandFailed)) throw e;
      const refused = (await route?.events())?.find((ev) => ev.kind === 'host-key-mismatch');
      if (refused) {
        throw failure('host-key-mismatch', `nix ${what} of ${c.host}: a host on the way to ${formatTarget(c.health.target)} presented ${refused.presented ?? 'a key'}, which is not the key pinned in ${c.health.ssh.hostKeys.pinFile}; nothing was sent over that connection`, 'if the host was reinstalled, check its new key out of band and pin it (`bootstrap probe`); otherwise someone may be in the way');
      }
      const err = e.result.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('warning:'));
      const at = err.findIndex((l) => l.startsWith('error:'));
      throw failure(`${what}-failed`, `nix ${what} of ${c.host} failed: ${(at >= 0 ? err.slice(at, at + 2) : err.slice(-2)).join(' ').slice(0, 400)}`, 'fix it, then run again with --resume; the host was not touched');
    }
  } finally {
    await route?.close();
  }
}

export const transferRecord = (t: RouteTransfer): StepRecord['transfer'] => ({ sentBytes: t.sentBytes, receivedBytes: t.receivedBytes, connections: t.connections });

/**
 * The copy's route. attic's configuration (with the push token) lives in a secret directory of
 * this run (RAM-backed, wiped afterwards, as the install's); the host's nix.conf is read over a
 * session only when a cache is configured.
 */
export async function runPlanCopyRoute(c: DeployCtx): Promise<CopyRoute> {
  // Loaded here, not with the command: the attic and secret store code runs only for a copy.
  const { planCopyRoute, readHostNixConf } = await import('./copy-route.js');
  const plan = async (dir: string) => {
    let s: SshSession | undefined;
    try {
      return await planCopyRoute({ loaded: c.loaded, app: c.app, store: c.store, signal: c.signal }, {
        host: c.host, hostFile: c.opts.hostFile, toplevel: c.state.toplevel!, privateDir: dir,
        hostNixConf: async () => readHostNixConf((s = await openSession(c.app, c.health.target, c.health.ssh))),
      });
    } finally {
      s?.close();
    }
  };
  // No cache configured: planCopyRoute says so before it would use a directory; none is made.
  const { url, server } = c.loaded.config.cache;
  return url && server ? withSecretDir(plan, { env: c.app.env, warn: (t) => c.app.out.warn(t) }) : plan('');
}

/** `bootstrap rescue HOST`: the rescue steps alone, then the rescue's key and where it is pinned. */
import { resolve } from 'node:path';
import type { AppContext } from '../../context.js';
import { loadConfig } from '../../config/load.js';
import { readManifest } from '../../manifest/manifest.js';
import { readManifestSshConfig } from '../../manifest/ssh-route.js';
import { hostDir } from '../../config/host-dir.js';
import { formatTarget } from '../../ssh/target.js';
import { assertFlakeDir } from '../install/flake-dir.js';
import { prepareRescue, runRescueSteps } from './index.js';

export interface RescueCommandOptions {
  host: string;
  flakeDir: string;
  target?: string;
  identity?: string;
  hostKey?: string;
  yes: boolean;
  resume: boolean;
  from?: string;
  json: boolean;
  waitTimeoutSeconds?: number;
  sshConfig?: string;
}

export async function runRescue(app: AppContext, o: RescueCommandOptions): Promise<number> {
  const flakeDir = resolve(app.cwd, o.flakeDir);
  await assertFlakeDir(flakeDir);
  const loaded = await loadConfig(flakeDir);
  const manifest = await readManifest(flakeDir, o.host);
  const sshConfig = o.sshConfig ?? readManifestSshConfig(manifest, flakeDir, app.env.HOME, `${hostDir(loaded.config, o.host)}/bootstrap.toml`);
  const c = await prepareRescue(app, {
    flakeDir, loaded, manifest, host: o.host, target: o.target ?? manifest.target, identity: o.identity, hostKey: o.hostKey, yes: o.yes,
    ...(o.waitTimeoutSeconds !== undefined ? { waitTimeoutSeconds: o.waitTimeoutSeconds } : {}),
    // --ssh-config wins; else the route the host was installed through (issue 20).
    ...(sshConfig ? { sshConfig } : {}),
  });
  const result = await runRescueSteps(c, flakeDir, loaded.config.stateDir, { resume: o.resume, ...(o.from ? { from: o.from } : {}) });
  const server = await c.server();
  const key = c.rescueKey;
  if (o.json) {
    app.out.json({
      host: o.host, provider: (await c.provider()).kind, server: { id: server.id, name: server.name }, target: formatTarget(c.target),
      rescueHostKey: key ? { fingerprint: key.fingerprint, type: key.type } : null, knownHosts: c.knownHostsFile, ran: result.ran, skipped: result.skipped,
    });
    return 0;
  }
  if (key) app.out.data(`${o.host} runs its rescue system at ${formatTarget(c.target)}; host key ${key.fingerprint} is pinned in ${c.knownHostsFile}`);
  else app.out.data(`${o.host}: the rescue steps finished in an earlier run; its key is pinned in ${c.knownHostsFile}`);
  app.out.data(`next: bootstrap rebuild ${o.host} --yes -i ${c.target.identityFile ?? 'KEY'} (or bootstrap recover ${o.host})`);
  return 0;
}

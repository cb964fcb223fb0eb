/**
 * What the health report of one host checks, for status, deploy and the report after an install:
 * its target and pinned SSH options, what it should look like, and the checks its manifest
 * declares ([health], issue 21). Below every workflow, so none imports another for it.
 */
import { relative } from 'node:path';
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import type { Manifest } from '../../manifest/schema.js';
import { buildLoginTargetText } from '../../manifest/login.js';
import { readManifestSshConfig } from '../../manifest/ssh-route.js';
import { hostDir } from '../../config/host-dir.js';
import { resolveSshFromChoices } from '../../ssh/ssh-choices.js';
import type { HealthTarget } from '../../health/collect.js';
import { listDeclaredChecks } from '../../health/declared.js';
import { buildExpectations, readBuiltToplevel, type HealthContext } from '../../health/expect.js';

/**
 * What to check on one host: its target and pinned SSH options, and what it should look like.
 * `ports.prompts` must be non-interactive (a changed key is an error, never a question).
 */
export async function buildHealthTarget(
  ports: Pick<AppContext, 'out' | 'prompts' | 'env' | 'cwd' | 'run'>,
  loaded: LoadedConfig,
  host: string,
  manifest: Manifest,
  context: HealthContext,
  o: { target?: string; identity?: string; timeout?: string; passwordEnv?: string; sshConfig?: string } = {},
): Promise<HealthTarget> {
  // After the install: as the manifest's [login] user when root may not log in (issue 18).
  const targetText = o.target ?? buildLoginTargetText(manifest)!;
  // --ssh-config wins; else the route the host was installed through (the manifest's [ssh] config, issue 20).
  const sshConfig = o.sshConfig ?? readManifestSshConfig(manifest, loaded.flakeDir, ports.env.HOME, `${hostDir(loaded.config, host)}/bootstrap.toml`);
  const { target, ssh } = await resolveSshFromChoices(ports, {
    target: targetText,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.timeout ? { timeout: o.timeout } : {}),
    ...(o.passwordEnv ? { passwordEnv: o.passwordEnv } : {}),
    ...(sshConfig ? { sshConfig } : {}),
    flakeDir: loaded.flakeDir,
    stateDir: loaded.config.stateDir,
  });
  const built = await readBuiltToplevel(loaded.flakeDir, loaded.config.stateDir, host);
  return {
    host,
    target,
    ssh,
    expectations: buildExpectations(host, manifest, loaded.config, built, context),
    pinLabel: relative(loaded.flakeDir, ssh.hostKeys.pinFile) || ssh.hostKeys.pinFile,
    declared: listDeclaredChecks(manifest.health),
  };
}

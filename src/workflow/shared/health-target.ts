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
import { resolveTarget } from '../../ssh/ssh-config.js';
import { parseTarget } from '../../ssh/target.js';
import type { NameLookup } from '../../ssh/name-lookup.js';
import { chooseManifestRoute } from './tailnet.js';
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
  o: {
    target?: string; identity?: string; timeout?: string; passwordEnv?: string; sshConfig?: string;
    /** With `target`: how that target reaches the host (install: verify went over the tailnet). */
    via?: 'tailnet' | 'target';
    /** For tests: how the tailnet name is looked up (default getaddrinfo). */
    lookup?: NameLookup;
    /** --via: 'tailnet' always the manifest's tailnet name, 'target' never; default: the name when it resolves. */
    route?: 'tailnet' | 'target';
  } = {},
): Promise<HealthTarget> {
  // After the install: as the manifest's [login] user when root may not log in (issue 18).
  const loginText = o.target ?? buildLoginTargetText(manifest)!;
  // --ssh-config wins; else the route the host was installed through (the manifest's [ssh] config, issue 20).
  const sshConfig = o.sshConfig ?? readManifestSshConfig(manifest, loaded.flakeDir, ports.env.HOME, `${hostDir(loaded.config, host)}/bootstrap.toml`);
  const resolvePorts = { run: ports.run, env: ports.env, debug: (m: string) => ports.out.debug(m) };
  // The tailnet name, when the manifest records one and it resolves here, or as --via says (issue 21).
  const { text: targetText, via } = o.target !== undefined
    ? { text: o.target, via: o.via }
    : await chooseManifestRoute(resolvePorts, host, loginText, manifest.tailscale?.name, { ...(o.route ? { route: o.route } : {}), ...(sshConfig ? { sshConfig } : {}), ...(o.lookup ? { lookup: o.lookup } : {}) });
  const { target, ssh } = await resolveSshFromChoices(ports, {
    target: targetText,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.timeout ? { timeout: o.timeout } : {}),
    ...(o.passwordEnv ? { passwordEnv: o.passwordEnv } : {}),
    ...(sshConfig ? { sshConfig } : {}),
    flakeDir: loaded.flakeDir,
    stateDir: loaded.config.stateDir,
  });
  if (via === 'tailnet' && targetText !== loginText && !(await ssh.hostKeys.knownTypes(target)).length) {
    // Nothing pinned under the tailnet name yet: the host must present the key pinned for its
    // target (the same host key), never an unchecked one. It is pinned under the name on success.
    const pub = await resolveTarget(resolvePorts, loginText, parseTarget(loginText), sshConfig ? { configFile: sshConfig } : {});
    const [fp] = await ssh.hostKeys.knownFingerprints(pub);
    if (fp) ssh.hostKeys.pin(target, fp);
  }
  const built = await readBuiltToplevel(loaded.flakeDir, loaded.config.stateDir, host);
  return {
    host,
    target,
    ssh,
    expectations: buildExpectations(host, manifest, loaded.config, built, context),
    pinLabel: relative(loaded.flakeDir, ssh.hostKeys.pinFile) || ssh.hostKeys.pinFile,
    declared: listDeclaredChecks(manifest.health),
    ...(via ? { via } : {}),
  };
}

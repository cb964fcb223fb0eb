/**
 * The fleet's attic cache for an installer-lab flake (issue 20), shared by the install e2e test and
 * the operator-bytes benchmark: a FAKE atticd (test/fakes/attic-server.ts) on the lab's bridge
 * address (the namespace targets reach it), cache "main" created through its API with an admin
 * token, the pull and push tokens put in the flake's secret store with `bootstrap secrets set`,
 * and `[cache]` in bootstrap.toml naming it; `atticPath` puts the strict fake `attic` client first
 * on a PATH.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import type { InstallerLab } from '../helpers/installer-lab.js';
import { startAtticFake, type AtticFake } from '../fakes/attic-server.js';
import { runCreateCache } from '../../src/storage/attic-api.js';
import { buildAtticClaims, buildRolePermissions, generateSigningKey, mintAtticToken, publicKeyPem } from '../../src/storage/attic-tokens.js';
import type { Flake } from './harness.js';

export interface LabCache {
  attic: AtticFake;
  /** Write [cache] into the flake's bootstrap.toml (the tokens are stored already). */
  configure(): void;
  /** `PATH` with the fake attic client first. */
  atticPath: string;
}

export async function startLabCache(lab: InstallerLab, f: Flake): Promise<LabCache> {
  const key = generateSigningKey(2048);
  const attic = await startAtticFake(publicKeyPem(key), { host: lab.gateway });
  try {
    const now = new Date();
    const token = (role: 'admin' | 'push' | 'pull') =>
      mintAtticToken(key, buildAtticClaims(`bootstrap-${role}`, role === 'admin' ? { '*': ['r', 'w', 'd', 'cc', 'cr', 'cq', 'cd'] } : buildRolePermissions(role, 'main'), now, 1));
    await runCreateCache((u, i) => fetch(u, i), { serverUrl: attic.url, cache: 'main', token: await token('admin'), isPublic: false });
    for (const role of ['pull', 'push'] as const) {
      const r = await runCli(['secrets', 'set', `attic/cachehost/${role}-token`, '--flake', f.dir], { env: f.env, input: await token(role) });
      assert.equal(r.code, 0, r.stderr);
    }
    const bin = join(f.dir, '.attic-bin');
    mkdirSync(bin);
    symlinkSync(join(REPO_ROOT, 'test/fakes/attic'), join(bin, 'attic'));
    return {
      attic,
      atticPath: `${bin}:${f.env.PATH}`,
      configure: () => writeFileSync(join(f.dir, 'bootstrap.toml'), `${readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8')}\n[cache]\nserver = "cachehost"\nurl = "${attic.url}"\n`),
    };
  } catch (e) {
    await attic.close();
    throw e;
  }
}

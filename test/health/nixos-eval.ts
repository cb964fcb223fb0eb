/**
 * The secrets side of an installed NixOS host, from the REAL upstream modules in ../shared/nix-src:
 * agenix (tag 0.15.0 and main) and sops-nix, evaluated by nix-instantiate (Debian's nix-bin) with
 * nixpkgs' lib.evalModules and small option stubs (nix/host-secrets.nix). What comes back is what a
 * host built from them carries: its activation script, the units they add, and sops-nix's manifest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

const NIX_SRC = join(REPO_ROOT, '../shared/nix-src');
export const NIXPKGS_LIB = process.env.NB_NIXPKGS_LIB ?? join(NIX_SRC, 'nixpkgs-lib');
export const MODULES = {
  'agenix-0.15.0': join(NIX_SRC, 'agenix/0.15.0/modules/age.nix'),
  'agenix-main': join(NIX_SRC, 'agenix/main/modules/age.nix'),
  'sops-nix': join(NIX_SRC, 'sops-nix/modules/sops/default.nix'),
} as const;
export type SecretsModule = keyof typeof MODULES;

export interface EvaluatedHost {
  /** The activation script (/run/current-system/activate) the modules' snippets make. */
  activate: string;
  /** systemd services they add: ExecStart, and the script text when ExecStart is a store script. */
  units: Record<string, { execStart: string | string[] | null; script: string | null }>;
  /** sops-nix's manifest (its store path and JSON text), null for agenix. */
  manifest: { path: string; text: string } | null;
}

/** Why these tests cannot run here (no nix-instantiate, no nix-src), or undefined. */
export function nixEvalSkipReason(): string | undefined {
  for (const p of [NIXPKGS_LIB, ...Object.values(MODULES)]) if (!existsSync(p)) return `missing ${p} (../shared/nix-src)`;
  try {
    execFileSync('nix-instantiate', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'nix-instantiate is not installed (Debian nix-bin)';
  }
  return undefined;
}

/** Evaluate one module with the given NixOS config (JSON: paths as strings). */
export function evalSecretsModule(mod: SecretsModule, config: Record<string, unknown>): EvaluatedHost {
  const out = execFileSync('nix-instantiate', [
    '--eval', '--strict', '--json', join(REPO_ROOT, 'test/health/nix/host-secrets.nix'),
    '--argstr', 'libPath', NIXPKGS_LIB,
    '--arg', 'modules', `[ ${MODULES[mod]} ]`,
    '--argstr', 'configJSON', JSON.stringify(config),
  ], { env: { ...process.env, NIX_REMOTE: 'dummy://', NIX_CONFIG: 'build-users-group =' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out) as EvaluatedHost;
}

const STORE = (h: string, name: string) => `/nix/store/${h.repeat(32).slice(0, 32)}-${name}`;

/** agenix config as a flake writes it: one secret at the default path, one linked elsewhere. */
export function agenixConfig(opts: { sysusers?: boolean } = {}): Record<string, unknown> {
  return {
    age: {
      identityPaths: ['/etc/ssh/ssh_host_ed25519_key'],
      secrets: {
        'restic-password': { file: STORE('a', 'restic-password.age') },
        'db-password': { file: STORE('b', 'db-password.age'), path: '/etc/db-password', mode: '0440' },
      },
    },
    ...(opts.sysusers ? { systemd: { sysusers: { enable: true } } } : {}),
  };
}

/** sops-nix config as a flake writes it (the age key bootstrap delivers, two secrets). */
export function sopsConfig(keyFile: string): Record<string, unknown> {
  const pkg = STORE('c', 'sops-install-secrets-0.0.1');
  return {
    sops: {
      package: pkg,
      validationPackage: pkg,
      // The sops file is a store path string: validation would read it at build time.
      validateSopsFiles: false,
      defaultSopsFile: STORE('d', 'secrets.yaml'),
      age: { keyFile, sshKeyPaths: [] },
      gnupg: { sshKeyPaths: [] },
      secrets: { 'restic-password': {}, 'attic-netrc': {} },
    },
  };
}

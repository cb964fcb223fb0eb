/**
 * `bootstrap doctor`: what is missing locally and how to fix it. Each check is a small function
 * over the ports; the command prints them as a table or JSON. Checks never print secret values.
 */
import { access, constants, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { AppContext } from '../context.js';
import { messageOf } from '../errors.js';
import { compareVersions, describePin, MIN_NIX_VERSION, NIXOS_ANYWHERE_FLAKE, NIXOS_ANYWHERE_PIN, nixosAnywhereVersionFromPath, parseNixVersion } from '../nix/pinned-installer.js';

export type CheckStatus = 'ok' | 'warn' | 'missing';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it; empty when ok. */
  fix?: string;
  /** A missing required check makes doctor exit non-zero. */
  required: boolean;
}

export type Check = (ctx: Pick<AppContext, 'run' | 'env'>) => Promise<CheckResult>;

/** The first executable called `name` on PATH, or undefined. Does not run it. */
export async function whichOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A check that a tool is on PATH and prints a version. */
export function toolCheck(opts: { name: string; argv: string[]; required: boolean; fix: string; why: string }): Check {
  return async (ctx) => {
    const path = await whichOnPath(opts.argv[0]!, ctx.env);
    if (!path) return { name: opts.name, status: opts.required ? 'missing' : 'warn', detail: `not found on PATH (${opts.why})`, fix: opts.fix, required: opts.required };
    if (opts.argv.length === 1) return { name: opts.name, status: 'ok', detail: path, required: opts.required };
    try {
      const r = await ctx.run(opts.argv, { check: false, timeoutMs: 10_000 });
      const version = (r.stdout + r.stderr).trim().split('\n')[0] ?? '';
      return { name: opts.name, status: 'ok', detail: `${version || 'present'} (${path})`, required: opts.required };
    } catch (e) {
      return { name: opts.name, status: 'warn', detail: `found at ${path} but did not run: ${messageOf(e)}`, fix: opts.fix, required: opts.required };
    }
  };
}

export const nodeCheck: Check = async () => {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 20
    ? { name: 'node', status: 'ok', detail: `v${process.versions.node}`, required: true }
    : { name: 'node', status: 'missing', detail: `v${process.versions.node} is too old`, fix: 'install Node.js 20 or newer', required: true };
};

const NIX_FIX = "install Nix ≥ 2.16 (https://nixos.org/download; Debian's nix-bin is 2.8) and put it first on PATH";

/** The nix on PATH and its version (undefined when it printed none or did not run). */
async function findNix(ctx: Pick<AppContext, 'run' | 'env'>): Promise<{ path: string; version: string | undefined; error?: string } | undefined> {
  const path = await whichOnPath('nix', ctx.env);
  if (!path) return undefined;
  try {
    const r = await ctx.run(['nix', '--version'], { check: false, timeoutMs: 10_000 });
    return { path, version: parseNixVersion(r.stdout + r.stderr) };
  } catch (e) {
    return { path, version: undefined, error: messageOf(e) };
  }
}

/** True when `version` is one nixos-anywhere works with (≥ 2.16; NixOS/nix#8480). Pure. */
export function nixIsRecentEnough(version: string): boolean {
  return compareVersions(version, MIN_NIX_VERSION) >= 0;
}

/**
 * nix ≥ 2.16: nixos-anywhere's own package pins it, because nix-copy-closure hangs when ssh has a
 * ControlPath (NixOS/nix#8480). Not required (probe, plan and keys work without nix), but an
 * older one is flagged, not passed: the install would fail half-way.
 */
export const nixCheck: Check = async (ctx) => {
  const nix = await findNix(ctx);
  if (!nix) return { name: 'nix', status: 'warn', detail: 'not found on PATH (needed to check nixosConfigurations and to run nixos-anywhere)', fix: NIX_FIX, required: false };
  if (nix.error) return { name: 'nix', status: 'warn', detail: `found at ${nix.path} but did not run: ${nix.error}`, fix: NIX_FIX, required: false };
  if (!nix.version) return { name: 'nix', status: 'warn', detail: `found at ${nix.path} but printed no version`, fix: NIX_FIX, required: false };
  if (!nixIsRecentEnough(nix.version)) {
    return {
      name: 'nix',
      status: 'warn',
      detail: `nix ${nix.version} (${nix.path}) is older than ${MIN_NIX_VERSION}, which nixos-anywhere needs (NixOS/nix#8480): probe, plan and keys work, install does not`,
      fix: NIX_FIX,
      required: false,
    };
  }
  return { name: 'nix', status: 'ok', detail: `nix ${nix.version} (${nix.path})`, required: false };
};

/** nixos-anywhere runs from PATH, else the pinned revision through `nix run`; one of the two is needed to install. */
export const installerCheck: Check = async (ctx) => {
  const na = await whichOnPath('nixos-anywhere', ctx.env);
  if (na) {
    const version = nixosAnywhereVersionFromPath(await realpath(na).catch(() => na));
    if (version && version !== NIXOS_ANYWHERE_PIN.version) {
      return {
        name: 'nixos-anywhere',
        status: 'warn',
        detail: `${na}: ${version}, not the tested ${describePin()}`,
        fix: `remove it from PATH (bootstrap then runs the pinned one through nix run), or install the pinned one: nix profile install ${NIXOS_ANYWHERE_FLAKE}`,
        required: false,
      };
    }
    return { name: 'nixos-anywhere', status: 'ok', detail: `${na} (${version ?? 'version unknown: not a Nix store path'}; tested with ${describePin()})`, required: false };
  }
  const nix = await findNix(ctx);
  if (nix?.version && nixIsRecentEnough(nix.version)) {
    return { name: 'nixos-anywhere', status: 'ok', detail: `not on PATH; will run through \`nix run ${NIXOS_ANYWHERE_FLAKE}\` (pinned ${NIXOS_ANYWHERE_PIN.describe})`, required: false };
  }
  return {
    name: 'nixos-anywhere',
    status: 'warn',
    detail: nix
      ? `not on PATH, and nix ${nix.version ?? '(version unknown)'} cannot run the pinned ${NIXOS_ANYWHERE_PIN.describe} (needs nix ≥ ${MIN_NIX_VERSION}): probe, plan and keys work, install does not`
      : 'neither nixos-anywhere nor nix is on PATH: probe, plan and keys work, install does not',
    fix: `${NIX_FIX}, or put nixos-anywhere on PATH (nix profile install ${NIXOS_ANYWHERE_FLAKE})`,
    required: false,
  };
};

export const BASE_CHECKS: Check[] = [
  nodeCheck,
  toolCheck({ name: 'ssh', argv: ['ssh', '-V'], required: true, fix: 'install OpenSSH (Debian: apt-get install openssh-client)', why: 'nixos-anywhere drives the target with it' }),
  toolCheck({ name: 'ssh-keygen', argv: ['ssh-keygen'], required: false, fix: 'install OpenSSH (Debian: apt-get install openssh-client)', why: 'used to check keys by hand' }),
  nixCheck,
  installerCheck,
  toolCheck({ name: 'age', argv: ['age', '--version'], required: false, fix: 'install age (Debian: apt-get install age)', why: 'optional: the vault works without it; handy to read vault files by hand' }),
  toolCheck({ name: 'sops', argv: ['sops', '--version'], required: false, fix: 'install sops (nix profile install nixpkgs#sops)', why: 'to re-encrypt secrets after adding a host; otherwise the command is printed' }),
  toolCheck({ name: 'restic', argv: ['restic', 'version'], required: false, fix: 'install restic (Debian: apt-get install restic)', why: 'for `bootstrap backup` and restore in `recover`' }),
];

export async function runChecks(ctx: Pick<AppContext, 'run' | 'env'>, checks: Check[]): Promise<CheckResult[]> {
  return Promise.all(checks.map((c) => c(ctx)));
}

export function formatChecks(results: CheckResult[], paint: (c: 'green' | 'yellow' | 'red', t: string) => string): string {
  const color = { ok: 'green', warn: 'yellow', missing: 'red' } as const;
  const label = { ok: 'ok', warn: 'warn', missing: 'MISSING' };
  const width = Math.max(...results.map((r) => r.name.length)) + 2;
  return results
    .map((r) => {
      const mark = paint(color[r.status], label[r.status].padEnd(7));
      const fix = r.fix ? `\n         ${' '.repeat(width)}fix: ${r.fix}` : '';
      return `${mark}  ${r.name.padEnd(width)}${r.detail}${fix}`;
    })
    .join('\n');
}

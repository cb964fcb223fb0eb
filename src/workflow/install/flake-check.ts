/**
 * Preflight: the flake defines nixosConfigurations.HOST. Runs `nix eval` when nix is installed;
 * without nix the check is skipped with a warning (nixos-anywhere would fail on it anyway, but
 * later and after kexec).
 */
import type { Task } from '../../cli/ui.js';
import { whichOnPath } from '../../doctor/checks.js';
import { CommandFailed } from '../../exec/run.js';
import { failure } from '../../errors.js';
import type { InstallCtx } from './context.js';

/** argv of the check: the attribute names of nixosConfigurations as JSON. Pure. */
export function buildFlakeCheckArgv(flakeDir: string): string[] {
  return ['nix', '--extra-experimental-features', 'nix-command flakes', 'eval', '--json', `${flakeDir}#nixosConfigurations`, '--apply', 'builtins.attrNames'];
}

export async function runFlakeCheck(c: Pick<InstallCtx, 'app' | 'flakeDir' | 'host' | 'out' | 'signal' | 'loaded'>, progress: Task): Promise<void> {
  if (!(await whichOnPath('nix', c.app.env))) {
    c.out.warn(`nix is not installed here: not checking that the flake defines nixosConfigurations.${c.host}`);
    return;
  }
  progress.update('evaluating the flake');
  let names: unknown;
  try {
    const r = await c.app.run(buildFlakeCheckArgv(c.flakeDir), { cwd: c.flakeDir, signal: c.signal, timeoutMs: 5 * 60_000 });
    names = JSON.parse(r.stdout);
  } catch (e) {
    if (e instanceof CommandFailed) {
      throw failure('flake-eval-failed', `the flake does not evaluate: ${e.message}`, `fix the flake (try \`nix flake show ${c.flakeDir}\`), then run again with --resume`);
    }
    throw e;
  }
  if (!Array.isArray(names) || !names.includes(c.host)) {
    const hostsDir = c.loaded.config.hostsDir;
    throw failure(
      'flake-missing-host',
      `the flake has no nixosConfigurations.${c.host}`,
      `add it in flake.nix, e.g. nixosConfigurations.${c.host} = nixpkgs.lib.nixosSystem { modules = [ ./${hostsDir}/${c.host} disko.nixosModules.disko ]; }; then run again with --resume`,
    );
  }
}

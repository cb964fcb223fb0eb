/** The directory an install writes into must be a flake: we never scatter hosts/ into any directory. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { assertFlakeDirExists } from '../../config/load.js';
import { usageError } from '../../errors.js';

export async function assertFlakeDir(flakeDir: string): Promise<void> {
  await assertFlakeDirExists(flakeDir);
  try {
    await access(join(flakeDir, 'flake.nix'));
  } catch {
    throw usageError('not-a-flake', `${flakeDir} has no flake.nix`, 'run inside your NixOS flake or pass --flake DIR');
  }
}

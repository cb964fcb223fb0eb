/**
 * Nothing is wiped without a typed confirmation: the host name typed at the prompt, or in scripts
 * `--yes` plus `--confirm-disk` naming the disk. A rebuild whose disk matches its committed
 * manifest (size and serial checked) needs only `--yes`: the manifest is the confirmation.
 */
import type { AppContext } from '../../context.js';
import { failure, usageError } from '../../errors.js';
import { formatBytes, type InstallDisk } from '../../render/install-disk.js';
import type { InstallAnswers } from './answers.js';

/** How many times a person may mistype the host name before the wizard gives up (or goes back). */
export const CONFIRM_TRIES = 3;

export function describeWipe(host: string, target: string, disk: InstallDisk, second?: InstallDisk): string {
  const one = (d: InstallDisk) => `${d.byId ?? d.path} (${formatBytes(d.sizeBytes)}${d.model ? `, ${d.model}` : ''}${d.serial ? `, serial ${d.serial}` : ''})`;
  return `This ERASES ${one(disk)}${second ? ` and ${one(second)}` : ''} on ${target} and installs NixOS host ${host}.`;
}

/** Does `given` name this disk (its by-id path, its path, or /dev/NAME)? Pure. */
export function confirmsDisk(given: string, disk: InstallDisk): boolean {
  const g = given.trim();
  return g === disk.byId || g === disk.path || g === `/dev/${disk.name}` || g === disk.name;
}

/**
 * The wipe confirmation. Resolves true once confirmed. A mistyped host name is asked again (up to
 * CONFIRM_TRIES times: a typo must not lose the wizard's answers); after the last one it throws
 * 'not-confirmed', or with `onMistyped: 'return'` resolves false so the wizard can go back to its
 * review. Scripts (--yes) and a missing terminal are decided without asking.
 */
export async function runConfirmWipe(
  app: Pick<AppContext, 'prompts' | 'out'>,
  o: { host: string; target: string; disk: InstallDisk; second?: InstallDisk; answers: InstallAnswers; manifestConfirms: boolean; onMistyped?: 'throw' | 'return' },
): Promise<boolean> {
  const text = describeWipe(o.host, o.target, o.disk, o.second);
  const id = o.disk.byId ?? o.disk.path;
  if (o.answers.yes) {
    if (o.answers.confirmDisk !== undefined) {
      if (!confirmsDisk(o.answers.confirmDisk, o.disk)) {
        throw usageError('wrong-disk-confirmation', `--confirm-disk ${o.answers.confirmDisk} does not name the disk to wipe (${id})`, `check the plan; to wipe it pass --confirm-disk ${id}`);
      }
      return true;
    }
    if (o.manifestConfirms) return true;
    throw usageError('confirmation-needed', `--yes alone does not wipe a disk. ${text}`, `add --confirm-disk ${id}`);
  }
  if (!app.prompts.interactive) {
    throw usageError('confirmation-needed', `no terminal to confirm the wipe. ${text}`, `pass --yes --confirm-disk ${id}`);
  }
  app.out.info(app.out.paint('bold', text));
  for (let left = CONFIRM_TRIES - 1; ; left--) {
    const typed = (await app.prompts.input({ message: `Type the host name (${o.host}) to continue:`, flag: '--yes --confirm-disk' })).trim();
    if (typed === o.host) return true;
    if (left > 0) {
      app.out.warn(`"${typed}" is not ${o.host}; nothing was changed. Try again (${left} ${left === 1 ? 'try' : 'tries'} left).`);
      continue;
    }
    if (o.onMistyped === 'return') {
      app.out.warn(`"${typed}" is not ${o.host}; nothing was changed. Back to the review.`);
      return false;
    }
    throw failure('not-confirmed', `"${typed}" is not ${o.host}: nothing was changed`, 'run again and type the host name to confirm');
  }
}

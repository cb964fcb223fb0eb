/**
 * recover only: after the reinstalled host presents its key, restore its latest backup onto it
 * and check it (restic on the host, through the wrapper its backup.nix builds, so no backup
 * secret crosses the SSH connection).
 */
import { RESTIC_PASSWORD_SECRET } from '../../storage/backup-module.js';
import { hostSecretStoreName } from '../../storage/host-secrets.js';
import { runRestore } from '../../storage/restore.js';
import type { Step } from '../step.js';
import type { InstallCtx } from './context.js';

export const restoreStep: Step<InstallCtx> = {
  id: 'restore',
  title: 'restore the latest backup onto the host',
  skip: (c) => (c.mode !== 'recover' ? 'only `bootstrap recover` restores backups' : false),
  async run(c, progress) {
    const store = await c.store();
    if (!(await store.exists(hostSecretStoreName(c.host, RESTIC_PASSWORD_SECRET)))) {
      c.out.warn(`${c.host} has no backups configured (no restic password in the secret store): nothing to restore; see \`bootstrap backup setup ${c.host}\`, or store the existing repository's password with \`bootstrap secrets set ${hostSecretStoreName(c.host, RESTIC_PASSWORD_SECRET)}\``);
      progress.update('no backups configured');
      return;
    }
    const result = await runRestore(c.app, {
      host: c.host,
      target: { kind: 'ssh', target: c.target, knownHostsFile: c.ssh.hostKeys.pinFile },
    });
    progress.update(`snapshot ${result.snapshot.short_id ?? result.snapshot.id.slice(0, 8)} restored${result.verified ? ' and verified' : ''}`);
  },
};

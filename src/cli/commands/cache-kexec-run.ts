/** Wiring for `cache kexec-image FILE`: the fleet storage's kexec image (workflow/install/kexec-cache.ts). */
import { resolve } from 'node:path';
import type { CommandModule } from '../spec.js';
import { loadConfig } from '../../config/load.js';
import { usageError } from '../../errors.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { checkKexecImageFile, resolveKexecStorage, runPutKexecImage } from '../../workflow/install/kexec-cache.js';

export const runKexecImageCommand: CommandModule['run'] = async (ctx, args) => {
  const file = args.positionals[0];
  if (!file) throw usageError('missing-argument', 'which kexec image?', 'bootstrap cache kexec-image FILE.tar.gz');
  const loaded = await loadConfig(args.string('flake') ?? ctx.cwd);
  checkKexecImageFile(resolve(ctx.cwd, file));
  resolveKexecStorage(loaded); // a storage problem is refused before the secret store is opened
  const store = await openSecretStore(loaded, ctx);
  const r = await runPutKexecImage(ctx, loaded, store, resolve(ctx.cwd, file));
  if (args.bool('json')) ctx.out.json(r);
  else ctx.out.data(`${r.sha256}  ${r.bucket}/${r.key} (${r.uploaded ? 'uploaded' : 'already there'})\ninstall with: --kexec-from cache --kexec-sha256 ${r.sha256}`);
};

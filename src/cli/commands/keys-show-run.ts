/** `bootstrap keys show HOST`: public values only, never a private one. */
import { resolve } from 'node:path';
import type { CommandModule } from '../spec.js';
import { loadConfig } from '../../config/load.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { readHostKeyRef } from '../../keys/host-key-ref.js';
import { assertHostName, readHostPublicKeys } from '../../keys/host-keys.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const host = args.positional(0, 'HOST');
  const loaded = await loadConfig(resolve(ctx.cwd, args.string('flake') ?? '.'));
  const store = await openSecretStore(loaded, ctx);
  assertHostName(host);
  const pub = await readHostPublicKeys(store, host, await readHostKeyRef(loaded, host, store));
  if (args.bool('json')) ctx.out.json(pub);
  else ctx.out.data([`host         ${pub.host}`, `ssh          ${pub.ssh.publicKey}`, `fingerprint  ${pub.ssh.fingerprint}`, `ref          ${pub.ssh.ref}`, `age          ${pub.age.recipient}`].join('\n'));
  return 0;
};

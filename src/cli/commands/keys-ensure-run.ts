/**
 * `bootstrap keys ensure HOST`: create or reuse the host's keys in the secret store, then register
 * its recipients (.sops.yaml / secrets.nix). Prints public values and references only.
 */
import { resolve } from 'node:path';
import type { CommandModule } from '../spec.js';
import { loadConfig } from '../../config/load.js';
import { checkRecipientFiles, runRegisterRecipients } from '../../recipients/register.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { readHostKeyRef } from '../../keys/host-key-ref.js';
import { assertHostName, ensureHostKeys } from '../../keys/host-keys.js';
import { withFlakeLockUnlessDryRun } from '../../workflow/flake-lock.js';
import { buildSeparateKeyOptions } from '../../workflow/install/context.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const host = args.positional(0, 'HOST');
  assertHostName(host);
  const dryRun = args.bool('dry-run');
  const loaded = await loadConfig(resolve(ctx.cwd, args.string('flake') ?? '.'));
  // Check, then write, then edit: a .sops.yaml / secrets.nix we cannot extend stops the run here,
  // before a key, a vault file or .bootstrap/ state exists, so a refused run changes nothing.
  await checkRecipientFiles(ctx, loaded, host);
  const store = await openSecretStore(loaded, ctx);
  const sshKeyRef = await readHostKeyRef(loaded, host, store);
  const { keys, actions } = await ensureHostKeys(store, host, {
    ...(sshKeyRef ? { sshKeyRef } : {}),
    rotate: args.bool('rotate'),
    luks: args.bool('luks'),
    ...buildSeparateKeyOptions(loaded.config.sops),
    dryRun,
  });
  const reg = await withFlakeLockUnlessDryRun(dryRun, loaded.flakeDir, loaded.config.stateDir, () =>
    runRegisterRecipients(ctx, loaded, { host, recipient: keys.age.recipient, separateRecipient: keys.separateAge?.recipient, separateShared: keys.separateAge?.shared, sshPublicKey: keys.ssh.publicKey }, dryRun),
  );

  const summary = {
    host,
    dryRun,
    ssh: { publicKey: keys.ssh.publicKey, fingerprint: keys.ssh.fingerprint, ref: keys.ssh.ref },
    age: { recipient: keys.age.recipient, ...(keys.separateAge ? { separateRecipient: keys.separateAge.recipient, separateRef: keys.separateAge.ref } : {}) },
    ...(keys.luks ? { luks: { ref: keys.luks.ref } } : {}),
    actions,
    files: reg.files,
    commands: { ran: reg.ran, toRun: reg.manual },
    notes: reg.notes,
  };
  if (args.bool('json')) {
    ctx.out.json(summary);
    return 0;
  }
  const verb = dryRun ? 'would ' : '';
  for (const a of actions) ctx.out.success(`${a.action === 'reuse' ? 'reused' : `${verb}${a.action}${dryRun ? '' : 'd'}`} ${a.ref}`);
  for (const f of reg.files) ctx.out.success(`${verb}${dryRun ? 'update' : 'updated'} ${f}`);
  for (const c of reg.ran) ctx.out.info(`ran: ${c.join(' ')}`);
  if (reg.manual.length && dryRun) ctx.out.info(`would run:\n${reg.manual.map((c) => `  ${c.join(' ')}`).join('\n')}`);
  else if (reg.manual.length) ctx.out.warn(`run these yourself${reg.manual.some((c) => c[0] === 'sops') ? ' (sops is not on PATH)' : ''}:\n${reg.manual.map((c) => `  ${c.join(' ')}`).join('\n')}`);
  for (const n of reg.notes) ctx.out.warn(n);
  ctx.out.data([`host         ${host}`, `ssh          ${keys.ssh.publicKey}`, `fingerprint  ${keys.ssh.fingerprint}`, `age          ${keys.age.recipient}`].join('\n'));
  return 0;
};

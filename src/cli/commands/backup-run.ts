/** Wiring for `backup setup` / `backup status`: flags → options, open the secret store, call the workflow. */
import type { CommandModule } from '../spec.js';
import { loadConfig } from '../../config/load.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { checkSecretsMode, defaultSecretsMode } from '../../workflow/storage/common.js';
import { runBackupSetup, runBackupStatus } from '../../workflow/storage/backup-setup.js';

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

export const runSetupCommand: CommandModule['run'] = async (ctx, args) => {
  const host = args.positional(0, 'HOST');
  const loaded = await loadConfig(args.string('flake') ?? ctx.cwd);
  // A bad --secrets is refused before the secret store is opened.
  const secretsMode = checkSecretsMode(args.string('secrets'), defaultSecretsMode(loaded));
  const store = await openSecretStore(loaded, ctx);
  const r = await runBackupSetup(ctx, loaded, store, {
    host,
    storage: args.string('storage'),
    bucket: args.string('bucket'),
    paths: list(args.string('paths')),
    exclude: list(args.string('exclude')),
    release: args.string('nixpkgs-release'),
    secretsMode,
    createBucket: args.bool('create-bucket'),
    dryRun: args.bool('dry-run'),
    json: args.bool('json'),
  });
  if (args.bool('json')) ctx.out.json(r);
  else if (!args.bool('dry-run')) ctx.out.data(`${r.repository} (${r.init}); wrote ${r.files.join(', ') || 'nothing (unchanged)'}`);
};

export const runStatusCommand: CommandModule['run'] = async (ctx, args) => {
  const host = args.positional(0, 'HOST');
  const loaded = await loadConfig(args.string('flake') ?? ctx.cwd);
  const store = await openSecretStore(loaded, ctx);
  const r = await runBackupStatus(ctx, loaded, store, { host, storage: args.string('storage'), bucket: args.string('bucket') });
  if (args.bool('json')) {
    ctx.out.json(r);
    return;
  }
  if (r.snapshots.length === 0) {
    ctx.out.data(`${r.repository}: no snapshots yet`);
    return;
  }
  ctx.out.data([`${r.repository}:`, ...r.snapshots.map((s) => `  ${s.short_id ?? s.id.slice(0, 8)}  ${s.time.slice(0, 19).replace('T', ' ')}  ${s.hostname ?? ''}  ${s.paths.join(' ')}`)].join('\n'));
};

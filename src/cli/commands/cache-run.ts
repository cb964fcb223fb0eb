/** Wiring for `cache setup` / `cache create`: flags → options, open the secret store, call the workflow. */
import type { CommandModule } from '../spec.js';
import { loadConfig } from '../../config/load.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { checkSecretsMode, defaultSecretsMode } from '../../workflow/storage/common.js';
import { runCacheSetup } from '../../workflow/storage/cache-setup.js';
import { runCacheCreate } from '../../workflow/storage/cache-create.js';
import { usageError } from '../../errors.js';

export const runSetupCommand: CommandModule['run'] = async (ctx, args) => {
  const loaded = await loadConfig(args.string('flake') ?? ctx.cwd);
  const server = args.string('server') ?? loaded.config.cache.server;
  if (!server) throw usageError('missing-server', 'which host runs atticd?', 'pass --server HOST or set [cache] server in bootstrap.toml');
  const dryRun = args.bool('dry-run');
  // A bad --secrets is refused before the secret store is opened.
  const secretsMode = checkSecretsMode(args.string('secrets'), defaultSecretsMode(loaded));
  const store = await openSecretStore(loaded, ctx);
  const r = await runCacheSetup(ctx, loaded, store, {
    server,
    storage: args.string('storage'),
    bucket: args.string('bucket'),
    dryRun,
    createBucket: args.bool('create-bucket'),
    setLifecycle: args.bool('set-lifecycle'),
    rotateTokens: args.bool('rotate-tokens'),
    secretsMode,
    json: args.bool('json'),
  });
  if (args.bool('json')) ctx.out.json(r);
  else if (!dryRun) ctx.out.data(`wrote ${r.files.join(', ') || 'nothing (unchanged)'}; bucket ${r.bucket}`);
};

export const runCreateCommand: CommandModule['run'] = async (ctx, args) => {
  const loaded = await loadConfig(args.string('flake') ?? ctx.cwd);
  // A bad --secrets is refused before the secret store is opened.
  const secretsMode = checkSecretsMode(args.string('secrets'), defaultSecretsMode(loaded));
  const store = await openSecretStore(loaded, ctx);
  const r = await runCacheCreate(ctx, loaded, store, {
    name: args.positionals[0] ?? loaded.config.cache.name,
    serverUrl: args.string('server-url'),
    server: args.string('server'),
    hosts: args.strings('host'),
    ...(args.bool('public') ? { isPublic: true } : {}),
    secretsMode,
    dryRun: args.bool('dry-run'),
    fetch: (url, init) => fetch(url, init),
  });
  // The cache's fields stay at the top level (as before --json grew the rest).
  if (args.bool('json')) ctx.out.json({ ...r.cache, name: r.name, serverUrl: r.serverUrl, hosts: r.hosts, dryRun: r.dryRun, files: r.files, plan: r.plan, netrcRefs: r.netrcRefs });
  else if (!args.bool('dry-run')) ctx.out.data(`${r.cache.substituterEndpoint} ${r.cache.publicKey}${r.files.length ? `\nwrote ${r.files.join(', ')}` : ''}`);
};

/**
 * `bootstrap keys import [HOST] --ssh-key FILE | --age-key FILE | --shared-admin-age FILE`: bring
 * existing keys into the secret store under the names `keys ensure` uses, then register their
 * recipients as `keys ensure` does. Key material is read from files or stdin (`-`), never argv,
 * and never printed: output holds fingerprints, recipients and store references only.
 */
import { resolve } from 'node:path';
import type { CommandModule } from '../spec.js';
import { readAllInput, readSecretFileFlag, stdinOnce } from '../../secrets/secret-input.js';
import { loadConfig } from '../../config/load.js';
import { isBootstrapError, usageError } from '../../errors.js';
import { checkRecipientFiles, checkSharedKeyFile, runRegisterRecipients, runRegisterSharedKey, type RegisterInput, type RegisterReport } from '../../recipients/register.js';
import { openSecretStore } from '../../secrets/open-store.js';
import { withFlakeLockUnlessDryRun } from '../../workflow/flake-lock.js';
import { buildSeparateKeyOptions } from '../../workflow/install/context.js';
import { assertHostName, readHostPublicKeys, readSeparateAgeKey, SHARED_ADMIN_AGE_NAME } from '../../keys/host-keys.js';
import { applyKeyImport, parseImportedAgeKey, parseImportedSshKey, planKeyImport, type ParsedImport } from '../../keys/import.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  const host = args.positionals[0];
  const sshFile = args.string('ssh-key');
  const ageFile = args.string('age-key');
  const sharedFile = args.string('shared-admin-age');
  if (!sshFile && !ageFile && !sharedFile) {
    throw usageError('missing-argument', 'nothing to import: pass --ssh-key FILE, --age-key FILE or --shared-admin-age FILE', 'see `bootstrap keys import --help`');
  }
  if (host === undefined && (sshFile || ageFile)) {
    throw usageError('missing-argument', `missing HOST: --${sshFile ? 'ssh-key' : 'age-key'} imports a key of one host`, 'e.g. `bootstrap keys import web1 --ssh-key ./ssh_host_ed25519_key`');
  }
  if (host !== undefined) assertHostName(host);
  const dryRun = args.bool('dry-run');

  // 1. Read and validate every input: a malformed key stops here, before the config or store is touched.
  const stdin = stdinOnce(() => readAllInput(process.stdin, 'the key'));
  const parsed: ParsedImport = {};
  if (sshFile) parsed.ssh = parseImportedSshKey(await readSecretFileFlag('ssh-key', sshFile, stdin));
  if (ageFile) parsed.age = await parseImportedAgeKey(await readSecretFileFlag('age-key', ageFile, stdin));
  if (sharedFile) parsed.sharedAge = await parseImportedAgeKey(await readSecretFileFlag('shared-admin-age', sharedFile, stdin));

  // 2. Check the recipient files, then compare with the store: a refused run changes nothing.
  const loaded = await loadConfig(resolve(ctx.cwd, args.string('flake') ?? '.'));
  if (host !== undefined) await checkRecipientFiles(ctx, loaded, host);
  if (parsed.sharedAge) await checkSharedKeyFile(loaded);
  const store = await openSecretStore(loaded, ctx);
  const items = await planKeyImport(store, host, parsed, args.bool('force'));

  // 3. Write, then register.
  if (!dryRun) await applyKeyImport(store, parsed, items);
  const separate = buildSeparateKeyOptions(loaded.config.sops);
  const notes: string[] = [];
  if (parsed.age && (!separate.separateAgeKey || separate.sharedAgeKey)) {
    notes.push(`${items.find((i) => i.kind === 'age')!.name} reaches the host only with [sops] separateKeyPath set${separate.sharedAgeKey ? ' and separateKeyShared off' : ''} in bootstrap.toml`);
  }
  if (parsed.sharedAge && !separate.sharedAgeKey) {
    notes.push(`${SHARED_ADMIN_AGE_NAME} reaches hosts only with [sops] separateKeyPath and separateKeyShared = true in bootstrap.toml`);
  }

  let regInput: RegisterInput | undefined;
  if (host !== undefined) {
    const sshPublic = parsed.ssh
      ? { publicKey: parsed.ssh.pair.publicKey, recipient: parsed.ssh.recipient }
      : await readHostPublicKeys(store, host).then((k) => ({ publicKey: k.ssh.publicKey, recipient: k.age.recipient })).catch((e: unknown) => {
          if (isBootstrapError(e) && e.code === 'unknown-host') return undefined;
          throw e;
        });
    const sep = !separate.separateAgeKey
      ? undefined
      : separate.sharedAgeKey
        ? (parsed.sharedAge ?? (await readSeparateAgeKey(store, host, separate)))
        : (parsed.age ?? (await readSeparateAgeKey(store, host, separate)));
    if (sshPublic) {
      regInput = {
        host,
        recipient: sshPublic.recipient,
        sshPublicKey: sshPublic.publicKey,
        ...(sep ? { separateRecipient: sep.recipient, ...(separate.sharedAgeKey ? { separateShared: true } : {}) } : {}),
      };
    } else notes.push(`${host} has no SSH host key in the store yet, so nothing was registered; \`bootstrap keys ensure ${host}\` creates it and registers both`);
  }
  // The shared files' lock guards writes; a dry run writes nothing, so it leaves no .bootstrap/ behind.
  const reg: RegisterReport = await withFlakeLockUnlessDryRun(dryRun, loaded.flakeDir, loaded.config.stateDir, async () => {
    const total: RegisterReport = { files: [], ran: [], manual: [], notes: [] };
    const merge = (r: RegisterReport) => {
      total.files = [...new Set([...total.files, ...r.files])];
      total.ran.push(...r.ran);
      total.manual.push(...r.manual);
      total.notes.push(...r.notes);
    };
    if (regInput) merge(await runRegisterRecipients(ctx, loaded, regInput, dryRun));
    // Without a host (or when hosts do not use it yet): the shared key's anchor alone.
    if (parsed.sharedAge && !regInput?.separateShared) merge(await runRegisterSharedKey(ctx, loaded, parsed.sharedAge.recipient, dryRun));
    return total;
  });
  notes.push(...reg.notes);

  const summary = {
    ...(host !== undefined ? { host } : {}),
    dryRun,
    keys: items.map((i) => ({ kind: i.kind, name: i.name, action: i.action, ref: i.ref, ...(i.kind === 'ssh' ? { fingerprint: i.shown } : { recipient: i.shown }) })),
    ...(parsed.ssh ? { ssh: { publicKey: parsed.ssh.pair.publicKey, fingerprint: parsed.ssh.pair.fingerprint, ref: items.find((i) => i.kind === 'ssh')!.ref }, age: { recipient: parsed.ssh.recipient } } : {}),
    files: reg.files,
    commands: { ran: reg.ran, toRun: reg.manual },
    notes,
  };
  if (args.bool('json')) {
    ctx.out.json(summary);
    return 0;
  }
  const verb = (a: string) => (a === 'unchanged' ? 'already holds' : dryRun ? `would ${a}` : a === 'import' ? 'imported' : 'replaced');
  for (const i of items) ctx.out.success(`${verb(i.action)} ${i.ref} (${i.shown})`);
  for (const f of reg.files) ctx.out.success(`${dryRun ? 'would update' : 'updated'} ${f}`);
  for (const c of reg.ran) ctx.out.info(`ran: ${c.join(' ')}`);
  if (reg.manual.length) ctx.out.warn(`${dryRun ? 'would run' : 'run these yourself'}:\n${reg.manual.map((c) => `  ${c.join(' ')}`).join('\n')}`);
  for (const n of notes) ctx.out.warn(n);
  if (parsed.ssh) {
    ctx.out.data([`host         ${host}`, `ssh          ${parsed.ssh.pair.publicKey}`, `fingerprint  ${parsed.ssh.pair.fingerprint}`, `age          ${parsed.ssh.recipient}`].join('\n'));
  }
  return 0;
};

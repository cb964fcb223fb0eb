/**
 * Register a host's recipients with the flake's secrets tooling, per [sops] mode: .sops.yaml (then
 * `sops updatekeys` on the files whose rules changed) or agenix's secrets.nix. Files are written
 * through the one file-plan writer; `dryRun` plans only.
 */
import { hostDir } from '../config/host-dir.js';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { AppContext } from '../context.js';
import type { LoadedConfig } from '../config/load.js';
import { isBootstrapError, usageError } from '../errors.js';
import { applyFilePlan, planFiles, type PlannedFile } from '../render/file-plan.js';
import { planAgenix } from './agenix.js';
import { buildNewSopsYaml } from './sops-yaml-new.js';
import { matchRule, parseCreationRules, planSopsYaml, planSopsYamlKey } from './sops-yaml.js';
import { SHARED_ADMIN_AGE_ANCHOR } from '../keys/host-keys.js';
import { recipientOfIdentity } from '../keys/age-key.js';
import { homedir } from 'node:os';
import { DEFAULT_STATE_DIR } from '../config/state-paths.js';

export interface RegisterInput {
  host: string;
  /** age recipient derived from the SSH key */
  recipient: string;
  /** the independent age key's recipient, when there is one */
  separateRecipient?: string;
  /** The independent key is the fleet's shared admin key: one anchor (&admin_shared) for all hosts. */
  separateShared?: boolean;
  sshPublicKey: string;
}

export interface RegisterReport {
  /** Flake-relative files written (or that would be, with dryRun). */
  files: string[];
  /** Commands run, and commands the user must run (sops missing). */
  ran: string[][];
  manual: string[][];
  notes: string[];
}

const SKIP_DIRS = new Set(['.git', 'node_modules', DEFAULT_STATE_DIR, 'result', '.direnv']);

/** Flake files under a changed rule (first matching rule wins, as in sops) that hold sops metadata. */
async function findSopsFiles(flakeDir: string, rules: string[], changed: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(join(dir, e.name), depth + 1);
        continue;
      }
      const rel = relative(flakeDir, join(dir, e.name)).split('\\').join('/');
      const rule = matchRule(rules, rel);
      if (!rule || !changed.includes(rule)) continue;
      const text = await readFile(join(dir, e.name), 'utf8').catch(() => '');
      if (/^sops:|"sops":|^sops_version=/m.test(text)) out.push(rel);
    }
  };
  await walk(flakeDir, 0);
  return out.sort();
}

/** A flake file's text; undefined when it does not exist (any other read error is the user's to fix). */
async function readFlakeFile(flakeDir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(flakeDir, file), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw usageError('unreadable-flake-file', `cannot read ${file}: ${(e as Error).message}`, `check the file's permissions; nothing was written`);
  }
}

/** A stand-in recipient for the pre-write trial edit (the host's real one may not exist yet). */
const TRIAL_RECIPIENT = `age1${'q'.repeat(58)}`;

/**
 * Before any key, vault file or .bootstrap/ state is written: is the flake's .sops.yaml (or
 * agenix secrets.nix) one we can read and extend? Throws the one-line usage error (exit 2) that
 * the edit itself would throw later, so a refused run leaves the flake as it was. Reads only.
 */
export async function checkRecipientFiles(ctx: Pick<AppContext, 'run' | 'signal'>, loaded: LoadedConfig, host: string): Promise<void> {
  const { config, flakeDir } = loaded;
  if (config.sops.mode === 'sops') {
    const file = config.sops.file;
    const text = await readFlakeFile(flakeDir, file);
    // Created from scratch: with the [sops] rules, checked now (before a key is made).
    if (text === undefined) return void buildNewSopsYaml(host, TRIAL_RECIPIENT, [], { extraRules: config.sops.rules, hostDir: hostDir(config, host) });
    // The full edit with a stand-in key: the shape check, and the in-place edit's own check.
    try {
      planSopsYaml(text, { host, recipient: TRIAL_RECIPIENT, extraRules: config.sops.rules }, file);
    } catch (e) {
      if (!isBootstrapError(e) || e.code !== 'sops-yaml-edit-failed') throw e;
      throw usageError(e.code, `${file}: its keys: list has a layout bootstrap cannot extend in place`, `make keys: a plain block list (\`  - &name age1…\` items); nothing was written`);
    }
  } else if (config.sops.mode === 'agenix') {
    await checkAgenixParses(ctx, flakeDir, config.sops.agenixFile);
  }
}

/** `nix-instantiate --parse` on secrets.nix; a syntax error is bad input. Without Nix, no check. */
async function checkAgenixParses(ctx: Pick<AppContext, 'run' | 'signal'>, flakeDir: string, file: string): Promise<void> {
  const path = join(flakeDir, file);
  if ((await readFlakeFile(flakeDir, file)) === undefined) return;
  let r;
  try {
    r = await ctx.run(['nix-instantiate', '--parse', path], { check: false, signal: ctx.signal });
  } catch (e) {
    if (isBootstrapError(e) && e.code === 'missing-tool') return;
    throw e;
  }
  if (r.code === 0) return;
  const error = r.stderr.split('\n').find((l) => l.startsWith('error:'));
  if (!error) return; // Nix itself failed, not the file: the text edit does not need it
  const line = /^\s*at .*:(\d+):\d+:\s*$/m.exec(r.stderr)?.[1];
  throw usageError('invalid-agenix-file', `${file}${line ? `:${line}` : ''}: ${error.replace(/^error:\s*/, '')}`, `fix the Nix syntax in ${file} (\`nix-instantiate --parse ${file}\` shows it); nothing was written`);
}

async function sopsAvailable(ctx: Pick<AppContext, 'run'>): Promise<boolean> {
  try {
    await ctx.run(['sops', '--version'], { check: false });
    return true;
  } catch (e) {
    if (isBootstrapError(e) && e.code === 'missing-tool') return false;
    throw e;
  }
}

/**
 * The operator's own age recipients for a new .sops.yaml: bootstrap's local vault recipients, and
 * the key sops itself decrypts with ($SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt), so the
 * operator can open the files they create next. Unreadable or malformed files count as none.
 */
export async function findOperatorRecipients(loaded: LoadedConfig, env: NodeJS.ProcessEnv | undefined): Promise<string[]> {
  const out = new Set(loaded.config.secrets.local.recipients);
  if (env) {
    const home = env.HOME ?? homedir();
    const file = env.SOPS_AGE_KEY_FILE ?? join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'sops/age/keys.txt');
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const id of text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('AGE-SECRET-KEY-1'))) {
      out.add(await recipientOfIdentity(id, file).catch(() => ''));
    }
  }
  out.delete('');
  return [...out];
}

export async function runRegisterRecipients(
  ctx: Pick<AppContext, 'run' | 'signal'> & { env?: NodeJS.ProcessEnv },
  loaded: LoadedConfig,
  input: RegisterInput,
  dryRun: boolean,
): Promise<RegisterReport> {
  const { config, flakeDir } = loaded;
  const report: RegisterReport = { files: [], ran: [], manual: [], notes: [] };
  const planned: PlannedFile[] = [];
  let updateRules: { rules: string[]; changed: string[] } | undefined;

  if (config.sops.mode === 'sops') {
    const file = config.sops.file;
    const existing = await readFile(join(flakeDir, file), 'utf8').catch(() => undefined);
    const admins = existing === undefined ? await findOperatorRecipients(loaded, ctx.env) : [];
    if (existing === undefined && !admins.length) {
      report.notes.push(`${file} is new and lists only ${input.host}: add your own age recipient under keys: and to its rule (sops reads $SOPS_AGE_KEY_FILE or ~/.config/sops/age/keys.txt), or you cannot open the secrets you create`);
    }
    let content = existing ?? buildNewSopsYaml(input.host, input.recipient, admins, { extraRules: config.sops.rules, hostDir: hostDir(config, input.host) });
    const plan = planSopsYaml(content, { host: input.host, recipient: input.recipient, extraRules: config.sops.rules, hostDir: hostDir(config, input.host) }, file);
    content = plan.content;
    report.notes.push(...plan.notes);
    if (input.separateRecipient) {
      const second = planSopsYaml(content, { host: input.host, recipient: input.separateRecipient, extraRules: config.sops.rules, anchor: input.separateShared ? SHARED_ADMIN_AGE_ANCHOR : `host_${input.host}_age` }, file);
      content = second.content;
    }
    planned.push({ path: file, content, owner: 'tool' });
    if (existing !== undefined && content !== existing) updateRules = { rules: parseCreationRules(content), changed: plan.rules };
  } else if (config.sops.mode === 'agenix') {
    const file = config.sops.agenixFile;
    const existing = await readFile(join(flakeDir, file), 'utf8').catch(() => undefined);
    if (existing === undefined) {
      report.notes.push(`${file} does not exist; add to it:\n  ${input.host} = "${input.sshPublicKey.split(' ').slice(0, 2).join(' ')}";`);
    } else {
      const plan = planAgenix(existing, input.host, input.sshPublicKey, file);
      report.notes.push(...plan.notes);
      if (plan.changed) planned.push({ path: file, content: plan.content, owner: 'tool' });
      if (plan.changed) report.manual.push(['agenix', '--rekey']);
    }
  }

  const entries = (await planFiles(flakeDir, planned)).filter((e) => e.action === 'create' || e.action === 'update');
  report.files = entries.map((e) => e.path);
  if (!dryRun) await applyFilePlan(flakeDir, entries);

  if (updateRules && updateRules.changed.length) {
    const files = await findSopsFiles(flakeDir, updateRules.rules, updateRules.changed);
    const commands = files.map((f) => ['sops', 'updatekeys', '-y', f]);
    if (dryRun || !(await sopsAvailable(ctx))) report.manual.push(...commands);
    else {
      for (const argv of commands) {
        await ctx.run(argv, { cwd: flakeDir, signal: ctx.signal });
        report.ran.push(argv);
      }
    }
  }
  return report;
}

/**
 * The fleet's shared admin age key (issue 11), registered without a host: its anchor
 * (&admin_shared) under `keys:` of an existing .sops.yaml, once. Each host's rules get the alias
 * when the host registers (`keys ensure`, new-host), which runs `sops updatekeys` for them.
 * Agenix and "none" modes have no place for it: a note says so.
 */
export async function runRegisterSharedKey(ctx: Pick<AppContext, 'run' | 'signal'>, loaded: LoadedConfig, recipient: string, dryRun: boolean): Promise<RegisterReport> {
  const { config, flakeDir } = loaded;
  const report: RegisterReport = { files: [], ran: [], manual: [], notes: [] };
  if (config.sops.mode !== 'sops') {
    report.notes.push(`[sops] mode is "${config.sops.mode}": the shared admin key's recipient ${recipient} is not registered anywhere`);
    return report;
  }
  const file = config.sops.file;
  const existing = await readFlakeFile(flakeDir, file);
  if (existing === undefined) {
    report.notes.push(`${file} does not exist yet; the first host registered adds &${SHARED_ADMIN_AGE_ANCHOR} to it`);
    return report;
  }
  const plan = planSopsYamlKey(existing, SHARED_ADMIN_AGE_ANCHOR, recipient, file);
  report.notes.push(...plan.notes);
  const entries = (await planFiles(flakeDir, [{ path: file, content: plan.content, owner: 'tool' }])).filter((e) => e.action === 'create' || e.action === 'update');
  report.files = entries.map((e) => e.path);
  if (!dryRun) await applyFilePlan(flakeDir, entries);
  if (plan.changed) report.notes.push(`hosts get *${SHARED_ADMIN_AGE_ANCHOR} in their rules when they register: run \`bootstrap keys ensure HOST\` for each host`);
  return report;
}

/** Before a shared-key write: is .sops.yaml one we can extend? Reads only; the same usage error as the edit. */
export async function checkSharedKeyFile(loaded: LoadedConfig): Promise<void> {
  const { config, flakeDir } = loaded;
  if (config.sops.mode !== 'sops') return;
  const text = await readFlakeFile(flakeDir, config.sops.file);
  if (text !== undefined) planSopsYamlKey(text, SHARED_ADMIN_AGE_ANCHOR, TRIAL_RECIPIENT, config.sops.file);
}

/**
 * Register a host's recipients with the flake's secrets tooling, per [sops] mode: .sops.yaml (then
 * `sops updatekeys` on the files whose rules changed) or agenix's secrets.nix. Files are written
 * through the one file-plan writer; `dryRun` plans only.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { AppContext } from '../context.js';
import type { LoadedConfig } from '../config/load.js';
import { isBootstrapError } from '../errors.js';
import { applyFilePlan, planFiles, type PlannedFile } from '../render/file-plan.js';
import { planAgenix } from './agenix.js';
import { buildNewSopsYaml, matchRule, parseCreationRules, planSopsYaml } from './sops-yaml.js';

export interface RegisterInput {
  host: string;
  /** age recipient derived from the SSH key */
  recipient: string;
  /** the independent age key's recipient, when there is one */
  separateRecipient?: string;
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

const SKIP_DIRS = new Set(['.git', 'node_modules', '.bootstrap', 'result', '.direnv']);

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

async function sopsAvailable(ctx: Pick<AppContext, 'run'>): Promise<boolean> {
  try {
    await ctx.run(['sops', '--version'], { check: false });
    return true;
  } catch (e) {
    if (isBootstrapError(e) && e.code === 'missing-tool') return false;
    throw e;
  }
}

export async function runRegisterRecipients(
  ctx: Pick<AppContext, 'run' | 'signal'>,
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
    let content = existing ?? buildNewSopsYaml(input.host, input.recipient, config.secrets.local.recipients);
    const plan = planSopsYaml(content, { host: input.host, recipient: input.recipient, extraRules: config.sops.rules }, file);
    content = plan.content;
    report.notes.push(...plan.notes);
    if (input.separateRecipient) {
      const second = planSopsYaml(content, { host: input.host, recipient: input.separateRecipient, extraRules: config.sops.rules, anchor: `host_${input.host}_age` }, file);
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

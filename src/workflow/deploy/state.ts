/**
 * What a deploy run keeps between its steps and across a --resume: the system it built, the one
 * the host ran before (what a rollback re-activates) and the name of the rollback timer it armed.
 * In .bootstrap/state/HOST/deploy.json, beside the host's own journal for deploys.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Journal } from '../journal.js';
import { buildJournalPaths } from '../journal.js';

const Path = z.string().regex(/^\/[A-Za-z0-9+._/-]+$/);

export const DeployStateSchema = z
  .object({
    toplevel: Path.optional(),
    previous: Path.optional(),
    unit: z.string().optional(),
    /** The host already ran `toplevel`: nothing to switch or confirm. */
    unchanged: z.boolean().optional(),
  })
  .strict();
export type DeployState = z.infer<typeof DeployStateSchema>;

/** Deploys journal apart from installs (their step ids differ), under the same host lock. */
export function buildDeployJournal(flakeDir: string, host: string, stateDir: string): Journal {
  const j = buildJournalPaths(flakeDir, host, stateDir);
  return { ...j, path: join(j.dir, 'deploy-journal.jsonl') };
}

export function buildDeployStatePath(journal: Journal): string {
  return join(journal.dir, 'deploy.json');
}

export async function loadDeployState(path: string): Promise<DeployState> {
  try {
    return DeployStateSchema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return {};
  }
}

export async function saveDeployState(path: string, s: DeployState): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, JSON.stringify(s) + '\n', { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/**
 * Record the confirmed system as the one bootstrap built for the host (built.json), so `status`
 * compares the host with what it was deployed, not with the install's system.
 */
export async function saveBuiltToplevel(builtPath: string, toplevel: string): Promise<void> {
  let b: { kind?: string; paths?: Record<string, unknown> } = {};
  try {
    b = JSON.parse(await readFile(builtPath, 'utf8')) as typeof b;
  } catch {
    /* none yet: written fresh */
  }
  await mkdir(dirname(builtPath), { recursive: true, mode: 0o700 });
  await writeFile(builtPath, JSON.stringify({ ...b, kind: 'local', paths: { ...(b.paths ?? {}), toplevel } }) + '\n', { mode: 0o600 });
}

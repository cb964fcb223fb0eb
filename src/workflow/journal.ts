/**
 * The per-host journal: <flake>/.bootstrap/state/HOST/journal.jsonl, one JSON object a line, appended
 * as steps start and end. It holds step ids, statuses, times and redacted error messages — never
 * secret values — so a failed or interrupted run can be resumed (`--resume`) and a person can read
 * what happened. Reading is tolerant: a torn last line (a crash mid-write) is skipped.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { checkHostName } from '../host-name.js';
import { usageError } from '../errors.js';
import { redact } from '../redact.js';
import { statePaths } from '../config/state-paths.js';

export type StepStatus = 'started' | 'done' | 'failed' | 'skipped' | 'interrupted';

export interface JournalEntry {
  runId: string;
  stepId: string;
  status: StepStatus;
  startedAt: string;
  endedAt?: string;
  /** Why a step was skipped ("done in run …", "not configured"). Redacted. */
  detail?: string;
  error?: { code: string; message: string };
  /** What the step sent over the network from here (an installer phase: its ssh connections). */
  transfer?: { sentBytes: number; receivedBytes: number; connections: number };
}

export interface Journal {
  /** <flake>/.bootstrap/state/HOST */
  dir: string;
  path: string;
  lockPath: string;
  host: string;
}

/**
 * Where a host's journal and lock live. The host name is validated because it becomes a path.
 * @throws usageError 'bad-host-name' when `host` is not a host name (src/host-name.ts)
 */
export function buildJournalPaths(flakeDir: string, host: string, stateDir?: string): Journal {
  checkHostName(host);
  const paths = statePaths(flakeDir, stateDir);
  return { dir: paths.hostDir(host), path: paths.journal(host), lockPath: paths.lock(host), host };
}

/** One journal line. Messages and details pass the redactor here, the single way in. */
export function buildJournalLine(entry: JournalEntry): string {
  const clean: JournalEntry = {
    ...entry,
    ...(entry.detail !== undefined ? { detail: redact(entry.detail) } : {}),
    ...(entry.error ? { error: { code: entry.error.code, message: redact(entry.error.message) } } : {}),
  };
  return JSON.stringify(clean) + '\n';
}

export async function appendJournal(journal: Journal, entry: JournalEntry): Promise<void> {
  await mkdir(journal.dir, { recursive: true, mode: 0o700 });
  await appendFile(journal.path, buildJournalLine(entry), { mode: 0o600 });
}

export function parseJournal(text: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (typeof e.runId === 'string' && typeof e.stepId === 'string' && typeof e.status === 'string') out.push(e);
    } catch {
      // a torn line from a crash: ignore it, the entries around it still tell the story
    }
  }
  return out;
}

export async function readJournal(journal: Journal): Promise<JournalEntry[]> {
  try {
    return parseJournal(await readFile(journal.path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** The entries of the most recent run (the runId of the last line), in order. */
export function lastRun(entries: JournalEntry[]): { runId: string; entries: JournalEntry[] } | undefined {
  const last = entries[entries.length - 1];
  if (!last) return undefined;
  return { runId: last.runId, entries: entries.filter((e) => e.runId === last.runId) };
}

/** A step counts as finished when it ended `done` or `skipped` (skipping is a decision too). */
export function finishedSteps(run: JournalEntry[]): Set<string> {
  const status = new Map<string, StepStatus>();
  for (const e of run) status.set(e.stepId, e.status);
  return new Set([...status].filter(([, s]) => s === 'done' || s === 'skipped').map(([id]) => id));
}

/**
 * Where a resumed run starts: right after the last step (in list order) that the last run
 * finished. Steps before it are not run again, so no finished step runs twice.
 * Returns 0 for an empty journal and `stepIds.length` when everything is finished.
 */
export function planResumeIndex(stepIds: readonly string[], entries: JournalEntry[]): number {
  const run = lastRun(entries);
  if (!run) return 0;
  const finished = finishedSteps(run.entries);
  let index = 0;
  stepIds.forEach((id, i) => {
    if (finished.has(id)) index = i + 1;
  });
  return index;
}

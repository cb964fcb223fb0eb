/**
 * Splits the probe script's stdout into its sections (see probe.sh). Pure. Every section is read
 * on its own, so a garbled or missing one degrades only the facts it carries.
 */


export interface ProbeSections {
  /** Section name → its lines, diagnostics ("!…" lines) removed. */
  sections: Map<string, string[]>;
  /** "!missing X" / "!failed X N" lines, prefixed with their section name. */
  diagnostics: string[];
  /** False when the output stops before the end marker (a dropped connection, a killed script). */
  complete: boolean;
  /** Whether the header line was seen at all (not: the remote shell ran something else). */
  sawHeader: boolean;
}

/**
 * Split the output of one of our scripts (the probe, the health report) whose lines are
 * `@@nb-KIND v1`, `@@nb-KIND section NAME`, …, `@@nb-KIND end`. Anything the login shell printed
 * before the header (motd, rc files) is ignored.
 */
export function splitMarkedOutput(stdout: string, kind: string): ProbeSections {
  const header = `@@nb-${kind} v1`;
  const section = `@@nb-${kind} section `;
  const end = `@@nb-${kind} end`;
  const lines = stdout.replace(/\r\n/g, '\n').split('\n');
  const start = lines.indexOf(header);
  const sections = new Map<string, string[]>();
  const diagnostics: string[] = [];
  let complete = false;
  let current: string[] | undefined;
  let currentName = '';
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    if (line === end) {
      complete = true;
      break;
    }
    if (line.startsWith(section)) {
      currentName = line.slice(section.length).trim();
      current = [];
      sections.set(currentName, current);
      continue;
    }
    if (!current) continue;
    if (line.startsWith('!')) diagnostics.push(`${currentName}: ${line.slice(1).trim()}`);
    else current.push(line);
  }
  return { sections, diagnostics, complete, sawHeader: start >= 0 };
}

export function splitProbeOutput(stdout: string): ProbeSections {
  return splitMarkedOutput(stdout, 'probe');
}

/**
 * `key=value` lines into a record (first value wins; lines without "=" are ignored). The record
 * has no prototype: a key "constructor" or "__proto__" from the target is just a key.
 */
export function parseKeyValues(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!(key in out)) out[key] = line.slice(eq + 1);
  }
  return out;
}

export interface ProbeRecord {
  name: string;
  values: Record<string, string>;
  /** Every `key=value` line, repeated keys included (e.g. `chain=` in sysblock). */
  all: Array<[string, string]>;
}

/** Records that start with a `- NAME` line followed by `key=value` lines. */
export function parseRecords(lines: readonly string[]): ProbeRecord[] {
  const records: ProbeRecord[] = [];
  let cur: ProbeRecord | undefined;
  for (const line of lines) {
    if (line.startsWith('- ')) {
      cur = { name: line.slice(2).trim(), values: Object.create(null), all: [] };
      records.push(cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (!cur || eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1);
    cur.all.push([key, value]);
    if (!(key in cur.values)) cur.values[key] = value;
  }
  return records;
}

/** A trimmed value, or null when absent or blank. */
export function clean(v: string | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

/** A non-negative integer, or null when the text is not one. */
export function toInt(v: string | undefined): number | null {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return null;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : null;
}

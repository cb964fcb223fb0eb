/**
 * The one redactor. Every secret value read or made anywhere in the process is registered here,
 * and every byte we print, log or journal passes through `redact()`. Registration is global on
 * purpose: a secret read deep inside a backend must still be hidden from a log line written by
 * the CLI frame.
 */
const MASK = '[REDACTED]';
const MIN_LENGTH = 6; // shorter values would mask ordinary words

const secrets = new Set<string>();
let sorted: string[] = [];

function variants(value: string): string[] {
  const out = [value];
  const trimmed = value.trim();
  if (trimmed !== value) out.push(trimmed);
  // Multi-line secrets (private keys, PEM) also leak line by line, e.g. in stderr tails.
  if (trimmed.includes('\n')) {
    for (const line of trimmed.split('\n')) {
      const l = line.trim();
      if (l.length >= 16 && !/^-----(BEGIN|END) /.test(l)) out.push(l);
    }
  }
  out.push(Buffer.from(trimmed, 'utf8').toString('base64'));
  return out;
}

/** Register a secret value so that it never reaches output. Returns the value for chaining. */
export function registerSecret(value: string | Uint8Array | undefined | null): void {
  if (value === undefined || value === null) return;
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  for (const v of variants(text)) if (v.length >= MIN_LENGTH) secrets.add(v);
  // Longest first, so a value that contains another is masked whole.
  sorted = [...secrets].sort((a, b) => b.length - a.length);
}

export function redact(text: string): string {
  if (sorted.length === 0 || text.length === 0) return text;
  let out = text;
  for (const s of sorted) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** For tests: how many values are registered. */
export function registeredSecretCount(): number {
  return secrets.size;
}

/**
 * Output. Data goes to stdout (`data`, `json`), everything a person reads while waiting goes to
 * stderr (info, warnings, progress). Every byte passes through the redactor. Writers are
 * swappable so tests capture output in process.
 */
import { redact } from '../redact.js';

export interface Writer {
  write(text: string): void;
  isTTY?: boolean;
}

export interface Task {
  update(detail: string): void;
  done(detail?: string): void;
  fail(detail?: string): void;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;
type Color = keyof typeof CODES;

export class Output {
  readonly color: boolean;
  debugEnabled: boolean;

  constructor(
    private readonly stdout: Writer,
    private readonly stderr: Writer,
    opts: { color: boolean; debug?: boolean },
  ) {
    this.color = opts.color;
    this.debugEnabled = opts.debug ?? false;
  }

  paint(color: Color, text: string): string {
    return this.color ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
  }

  /** Data for stdout: a summary, a plan, a table. */
  data(text: string): void {
    this.stdout.write(redact(text.endsWith('\n') ? text : text + '\n'));
  }
  json(value: unknown): void {
    this.stdout.write(redact(JSON.stringify(value, null, 2)) + '\n');
  }
  info(text: string): void {
    this.stderr.write(redact(text) + '\n');
  }
  success(text: string): void {
    this.stderr.write(redact(`${this.paint('green', '✔')} ${text}`) + '\n');
  }
  warn(text: string): void {
    this.stderr.write(redact(`${this.paint('yellow', 'warning:')} ${text}`) + '\n');
  }
  error(text: string): void {
    this.stderr.write(redact(`${this.paint('red', 'error:')} ${text}`) + '\n');
  }
  debug(text: string): void {
    if (this.debugEnabled) this.stderr.write(redact(this.paint('dim', `debug: ${text}`)) + '\n');
  }

  /** A long step. On a terminal one line that updates; elsewhere a line when it starts and ends. */
  task(title: string): Task {
    const started = Date.now();
    const tty = this.stderr.isTTY === true && this.color;
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
    const line = (mark: string, detail?: string) => `${mark} ${title}${detail ? this.paint('dim', ` — ${detail}`) : ''}`;
    this.stderr.write(redact(tty ? `\r\x1b[2K${line(this.paint('blue', '…'))}` : `${line('…')}\n`));
    let finished = false;
    return {
      update: (detail) => {
        if (!finished && tty) this.stderr.write(redact(`\r\x1b[2K${line(this.paint('blue', '…'), detail)}`));
      },
      done: (detail) => {
        if (finished) return;
        finished = true;
        const text = line(this.paint('green', '✔'), [detail, elapsed()].filter(Boolean).join(', '));
        this.stderr.write(redact(tty ? `\r\x1b[2K${text}\n` : `${text}\n`));
      },
      fail: (detail) => {
        if (finished) return;
        finished = true;
        const text = line(this.paint('red', '✖'), [detail, elapsed()].filter(Boolean).join(', '));
        this.stderr.write(redact(tty ? `\r\x1b[2K${text}\n` : `${text}\n`));
      },
    };
  }
}

export function colorWanted(env: NodeJS.ProcessEnv, noColorFlag: boolean, stream: Writer): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

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
  /**
   * A terminal task line is on screen without its newline (what it shows now). A message said
   * meanwhile clears it, prints above it and draws it again, so the spinner stays the last line
   * and its ✔/✖ replaces it in place (issue 11: notes used to land mid-line, under a stale "…").
   */
  private openTaskLine: string | undefined;

  constructor(
    private readonly stdout: Writer,
    private readonly stderr: Writer,
    opts: { color: boolean; debug?: boolean },
  ) {
    this.color = opts.color;
    this.debugEnabled = opts.debug ?? false;
  }

  /** Everything for a person goes to stderr through here, below any open task line. */
  private say(text: string): void {
    if (this.openTaskLine !== undefined) {
      this.stderr.write(`\r\x1b[2K${redact(text)}\n${this.openTaskLine}`);
      return;
    }
    this.stderr.write(redact(text) + '\n');
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
    this.say(text);
  }
  success(text: string): void {
    this.say(`${this.paint('green', '✔')} ${text}`);
  }
  warn(text: string): void {
    this.say(`${this.paint('yellow', 'warning:')} ${text}`);
  }
  error(text: string): void {
    this.say(`${this.paint('red', 'error:')} ${text}`);
  }
  debug(text: string): void {
    if (this.debugEnabled) this.say(this.paint('dim', `debug: ${text}`));
  }

  /** A long step. On a terminal one line that updates; elsewhere a line when it starts and ends. */
  task(title: string): Task {
    const started = Date.now();
    const tty = this.stderr.isTTY === true && this.color;
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
    const line = (mark: string, detail?: string) => `${mark} ${title}${detail ? this.paint('dim', ` — ${detail}`) : ''}`;
    const show = (text: string) => {
      this.stderr.write(text);
      this.openTaskLine = text;
    };
    if (tty) show(redact(`\r\x1b[2K${line(this.paint('blue', '…'))}`));
    else this.stderr.write(redact(`${line('…')}\n`));
    let finished = false;
    const end = (text: string) => {
      this.stderr.write(redact(tty ? `\r\x1b[2K${text}\n` : `${text}\n`));
      this.openTaskLine = undefined;
    };
    return {
      update: (detail) => {
        if (finished || !tty) return;
        show(redact(`\r\x1b[2K${line(this.paint('blue', '…'), detail)}`));
      },
      done: (detail) => {
        if (finished) return;
        finished = true;
        end(line(this.paint('green', '✔'), [detail, elapsed()].filter(Boolean).join(', ')));
      },
      fail: (detail) => {
        if (finished) return;
        finished = true;
        end(line(this.paint('red', '✖'), [detail, elapsed()].filter(Boolean).join(', ')));
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

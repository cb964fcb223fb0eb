/**
 * Flag parsing and help text. A command declares its options once; the same declaration drives
 * parsing (node:util parseArgs, strict), `--help` output and the usage errors.
 */
import { parseArgs } from 'node:util';
import { quote, usageError } from '../errors.js';

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  placeholder?: string;
  /** The fixed values it takes (completions offer them); free text when unset. */
  choices?: readonly string[];
  description: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /**
   * Parsed but not shown in help: a slot the command refuses with its own message. Used where an
   * extra argument would be a secret (`secrets set NAME VALUE`), which the generic "unexpected
   * argument" error would echo.
   */
  hidden?: boolean;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', description: 'show this help' },
  { name: 'debug', type: 'boolean', description: 'show stack traces and debug output' },
  { name: 'no-color', type: 'boolean', description: 'plain output (also when NO_COLOR is set)' },
];

export const JSON_OPTION: OptionSpec = { name: 'json', type: 'boolean', description: 'print machine-readable JSON on stdout' };
export const DRY_RUN_OPTION: OptionSpec = { name: 'dry-run', type: 'boolean', description: 'show the plan, change nothing' };
export const FLAKE_OPTION: OptionSpec = { name: 'flake', type: 'string', placeholder: 'DIR', description: 'the flake directory (default: current directory)' };

export class ParsedArgs {
  constructor(
    readonly command: string,
    readonly positionals: readonly string[],
    private readonly values: Record<string, string | boolean | string[] | undefined>,
  ) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    if (Array.isArray(v)) return v[v.length - 1];
    return typeof v === 'string' ? v : undefined;
  }
  strings(name: string): string[] {
    const v = this.values[name];
    if (Array.isArray(v)) return v;
    return typeof v === 'string' ? [v] : [];
  }
  bool(name: string): boolean {
    return this.values[name] === true;
  }
  has(name: string): boolean {
    return this.values[name] !== undefined;
  }
  /** A positional argument, or a usage error naming it. */
  positional(index: number, name: string): string {
    const v = this.positionals[index];
    if (v === undefined || v === '') {
      throw usageError('missing-argument', `missing ${name}`, `see \`bootstrap ${this.command} --help\``);
    }
    return v;
  }
  /** A whole number option in a range, or a usage error. */
  integer(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw usageError('bad-flag', `--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  }
}

export function parseCommandArgs(command: string, argv: string[], options: OptionSpec[], maxPositionals: number): ParsedArgs {
  const all = [...GLOBAL_OPTIONS, ...options];
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of all) config[o.name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const ambiguous = e instanceof Error && /^Option '(-\w|--[\w-]+)' argument is ambiguous/.exec(e.message);
    if (ambiguous) {
      const flag = ambiguous[1]!;
      const name = flag.startsWith('--') ? flag.slice(2) : (all.find((o) => o.short === flag.slice(1))?.name ?? flag);
      const value = argv[argv.indexOf(flag) + 1] ?? '';
      throw usageError('bad-flag', `--${name} needs a value, and ${quote(value)} looks like a flag`, `if the value really starts with "-", write --${name}=VALUE`);
    }
    const msg = e instanceof Error ? e.message.split('\n')[0]!.replace(/\. To specify.*$/, '') : String(e);
    throw usageError('bad-flag', msg, `see \`bootstrap ${command} --help\``);
  }
  // A value flag given twice is ambiguous (which --flake?): refused, not last-one-wins.
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option' || config[t.name]?.type !== 'string' || config[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw usageError('bad-flag', `--${t.name} is given twice`, `give --${t.name} once; see \`bootstrap ${command} --help\``);
    seen.add(t.name);
  }
  if (parsed.values.help !== true && parsed.positionals.length > maxPositionals) {
    throw usageError(
      'bad-argument',
      `unexpected argument "${parsed.positionals[maxPositionals]}"`,
      `see \`bootstrap ${command} --help\``,
    );
  }
  return new ParsedArgs(command, parsed.positionals, parsed.values as Record<string, string | boolean | string[] | undefined>);
}

function optionLabel(o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}`;
  return o.type === 'string' ? `${flag} ${o.placeholder ?? 'VALUE'}` : flag;
}

export function formatOptions(options: OptionSpec[]): string {
  const labels = options.map(optionLabel);
  const width = Math.min(36, Math.max(...labels.map((l) => l.length)) + 2);
  return options
    .map((o, i) => {
      const label = labels[i]!;
      const pad = label.length < width ? ' '.repeat(width - label.length) : '\n  ' + ' '.repeat(width);
      return `  ${label}${pad}${o.description}${o.multiple ? ' (repeatable)' : ''}`;
    })
    .join('\n');
}

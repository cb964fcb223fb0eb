/** Help text, generated from the command specs. */
import { formatOptions, GLOBAL_OPTIONS } from './args.js';
import type { CommandSpec } from './spec.js';

export function topLevelHelp(commands: CommandSpec[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return [
    `bootstrap ${version} — take a bare machine to an installed NixOS host of your flake`,
    '',
    'Usage: bootstrap <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Global options:',
    formatOptions(GLOBAL_OPTIONS),
    '      --version   print the versions of bootstrap, node, the pinned nixos-anywhere and nix',
    '',
    'Run `bootstrap <command> --help` for a command\'s options.',
  ].join('\n');
}

export function commandHelp(spec: CommandSpec): string {
  const positionals = spec.positionals.filter((p) => !p.hidden);
  const pos = positionals.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ');
  const parts = [`Usage: bootstrap ${spec.name}${pos ? ' ' + pos : ''} [options]`, '', spec.summary];
  if (spec.description) parts.push('', spec.description);
  if (positionals.length) {
    const w = Math.max(...positionals.map((p) => p.name.length)) + 2;
    parts.push('', 'Arguments:', ...positionals.map((p) => `  ${p.name.padEnd(w)}${p.description}`));
  }
  parts.push('', 'Options:', formatOptions([...spec.options, ...GLOBAL_OPTIONS]));
  if (spec.examples?.length) parts.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return parts.join('\n');
}

export function groupHelp(group: string, commands: CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [`Usage: bootstrap ${group} <subcommand> [options]`, '', 'Subcommands:', ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`)].join('\n');
}

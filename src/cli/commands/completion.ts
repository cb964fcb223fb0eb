/** `bootstrap completion bash|zsh|fish`: a shell completion script from the command specs. Wiring only. */
import { FLAKE_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';

export const completionCommands: CommandSpec[] = [
  {
    name: 'completion',
    summary: 'print a shell completion script (bash, zsh or fish): commands, flags, their choices, host names',
    description:
      'Generated from the command specs: every command and subcommand, its flags, the values of flags\n' +
      'with fixed choices (layouts, profiles, --build-on, --secrets), files for FILE flags, and the host\n' +
      'names of the flake (hosts with a manifest), asked at completion time from `bootstrap completion\n' +
      'hosts [--flake DIR]`, which prints them one a line.',
    positionals: [{ name: 'SHELL', description: 'bash, zsh or fish (or hosts: the flake\'s host names)', required: true }],
    options: [FLAKE_OPTION],
    examples: [
      'bootstrap completion fish > ~/.config/fish/completions/bootstrap.fish',
      'bootstrap completion bash > ~/.local/share/bash-completion/completions/bootstrap',
      'source <(bootstrap completion zsh)    # in ~/.zshrc',
    ],
    load: () => import('./completion-run.js'),
  },
];

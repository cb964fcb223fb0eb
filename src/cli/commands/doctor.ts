/** `bootstrap doctor`: what is missing locally and how to fix it. Wiring only. */
import { FLAKE_OPTION, JSON_OPTION } from '../args.js';
import type { CommandSpec } from '../spec.js';

export const doctorCommands: CommandSpec[] = [
  {
    name: 'doctor',
    summary: 'check the local tools, config and secret store, and say how to fix what is missing',
    positionals: [],
    options: [FLAKE_OPTION, JSON_OPTION],
    examples: ['bootstrap doctor', 'bootstrap doctor --flake ~/nixos-config --json'],
    load: () => import('./doctor-run.js'),
  },
];

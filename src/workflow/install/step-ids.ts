/**
 * The install's steps in run order, by id: the one order INSTALL_STEPS (run-install.ts) follows
 * and `--from STEP` lists in help. Kept apart from the steps themselves so the command specs
 * (loaded for every `--help`) do not load the install's code.
 */
import { PHASES } from '../../nix/phases.js';

export const INSTALL_STEP_IDS = [
  'write', // files first: the flake check in preflight evaluates what was written
  'keys', // identity before install: secrets must decrypt on first boot
  'recipients',
  'preflight', // the last step that changes nothing on the target
  ...PHASES, // kexec, disko (the wipe), install, reboot: one nixos-anywhere call
  'verify', // the installed system presents the expected key
  'restore', // recover only
] as const;

export type InstallStepId = (typeof INSTALL_STEP_IDS)[number];

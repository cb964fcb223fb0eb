/**
 * The install flags (INSTALL_OPTIONS in commands/install.ts) read into InstallAnswers, the same
 * object an answers file fills (workflow/install/answers.ts).
 */
import { usageError } from '../errors.js';
import { checkAnswers, type InstallAnswers } from '../workflow/install/answers.js';
import type { ParsedArgs } from './args.js';

/** The answers given as flags. Booleans only when present, so they never erase the file's. */
export function buildAnswersFromArgs(args: ParsedArgs): InstallAnswers {
  const a: InstallAnswers = {};
  const str = (flag: string, key: keyof InstallAnswers) => {
    const v = args.string(flag);
    if (v !== undefined) (a as Record<string, unknown>)[key] = v;
  };
  const bool = (flag: string, key: keyof InstallAnswers) => {
    if (args.has(flag)) (a as Record<string, unknown>)[key] = args.bool(flag);
  };
  str('target', 'target');
  str('identity', 'identity');
  str('host-key', 'hostKey');
  bool('accept-new-host-key', 'acceptNewHostKey');
  str('password-env', 'passwordEnv');
  str('profile', 'profile');
  str('layout', 'layout');
  str('disk', 'disk');
  str('second-disk', 'secondDisk');
  str('swap', 'swap');
  bool('hibernate', 'hibernate');
  bool('encrypt', 'encrypt');
  bool('copy-host-keys', 'copyHostKeys');
  bool('allow-no-login', 'allowNoLogin');
  bool('skip-rekey', 'skipRekey');
  if (args.strings('login-key').length) a.loginKeys = args.strings('login-key');
  bool('no-disko-deps', 'noDiskoDeps');
  bool('yes', 'yes');
  str('confirm-disk', 'confirmDisk');
  if (args.strings('subvolume').length) a.subvolumes = args.strings('subvolume');
  const buildOn = args.string('build-on');
  if (buildOn !== undefined) {
    if (!['auto', 'local', 'remote'].includes(buildOn)) throw usageError('bad-flag', `--build-on must be auto, local or remote, got "${buildOn}"`);
    a.buildOn = buildOn as InstallAnswers['buildOn'];
  }
  const timeout = args.string('timeout');
  if (timeout !== undefined) a.timeout = Number(timeout);
  if (args.has('wait-timeout')) a.waitTimeout = args.integer('wait-timeout', 600, 1, 86_400);
  if (args.has('post-kexec-port')) a.postKexecPort = args.integer('post-kexec-port', 22, 1, 65_535);
  const timeouts = args.strings('phase-timeout');
  if (timeouts.length) a.phaseTimeouts = parsePhaseTimeoutFlags(timeouts);
  return checkAnswers(a); // bad input: refused before any connection
}

/** `--phase-timeout install=2h` (repeatable) → { install: "2h" }; values are checked when used. */
export function parsePhaseTimeoutFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null); // "__proto__=10m" stays a key, and is refused
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw usageError('bad-flag', `--phase-timeout takes PHASE=DURATION, got "${v}"`, 'e.g. --phase-timeout install=2h --phase-timeout kexec=20m');
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

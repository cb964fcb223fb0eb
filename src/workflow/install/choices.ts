/**
 * Every install choice, declared once (issue 14): its answers key (the key of this table, also the
 * answers file key), its zod schema, its flag and help line, whether a run may save it for
 * --resume, where the host manifest records it and how a plan takes it. Derived from this table:
 * InstallAnswersSchema, checkAnswers and buildResumableAnswers (answers.ts), the manifest's choices
 * as answers and the plan's answers (choice-maps.ts), the install flags and the generic flag reader
 * (cli/install-flags.ts). Free of cli/ types: the CLI layer turns `flag` into its OptionSpec.
 *
 * The order is the answers schema's: the first bad key of an answers file is the one reported.
 */
import { z } from 'zod';
import { usageError } from '../../errors.js';
import type { Manifest } from '../../manifest/schema.js';
import { describeDefaultTimeouts, parsePhaseTimeoutFlags, parsePhaseTimeouts } from '../../nix/phases.js';
import { findLayout } from '../../render/disko/index.js';
import { checkHostName, checkSecondDiskFits, parseSize } from '../../render/plan-choices.js';
import type { PlanAnswers } from '../../render/plan.js';

/** A flag's name (`--name`), its one-letter alias and its line in `--help`. */
interface FlagBase {
  name: string;
  short?: string;
  help: string;
}

/** How a choice is given on the command line. */
export type ChoiceFlag =
  /** Given only as `--flag`; absent leaves the answer unset, so an answers file's value stands. */
  | (FlagBase & { kind: 'boolean' })
  /** One value; `parse` turns the text into the answer (and refuses bad text with a usage error). */
  | (FlagBase & { kind: 'string'; placeholder: string; parse?: (text: string) => unknown })
  /** A whole number in [min, max], refused with the flag's name otherwise. */
  | (FlagBase & { kind: 'integer'; placeholder: string; min: number; max: number })
  /** Given any number of times; `parse` turns the list into the answer. */
  | (FlagBase & { kind: 'repeatable'; placeholder: string; parse?: (texts: string[]) => unknown })
  /** The command's HOST argument, not a flag (the answers file still has the key). */
  | { kind: 'positional'; name: string };

export interface Choice<S extends z.ZodType = z.ZodType> {
  schema: S;
  flag: ChoiceFlag;
  /** Why this answer is never saved for --resume (it must be given again on every run). */
  neverSaved?: string;
  /** Where the host manifest records it (`key`, for people and tests) and how rebuild reads it back. */
  manifest?: { key: string; read(m: Manifest): z.output<S> | undefined };
  /** The plan's answers it gives (render/plan.ts PlanAnswers); unset when the plan does not take it. */
  plan?(value: z.output<S>): Partial<PlanAnswers>;
  /** Checks that need no target, run as soon as answers are read; `where` names the flag or file key. */
  check?(value: z.output<S>, all: { readonly [key: string]: unknown }, where: string): void;
}

const choice = <S extends z.ZodType>(c: Choice<S>): Choice<S> => c;

const BUILD_ON = ['auto', 'local', 'remote'] as const;
const phaseTimeoutsSchema = z.record(z.string(), z.union([z.string(), z.number()]));

export const INSTALL_CHOICES = {
  host: choice({ schema: z.string(), flag: { kind: 'positional', name: 'HOST' }, manifest: { key: 'host', read: (m) => m.host }, check: (v) => void checkHostName(v) }),
  target: choice({
    schema: z.string(),
    flag: { kind: 'string', name: 'target', short: 't', placeholder: 'USER@HOST[:PORT]', help: 'the machine to install' },
    manifest: { key: 'target', read: (m) => m.target },
  }),
  // The SSH choices: the same flags as `probe` and `plan` (ssh/ssh-choices.ts reads them).
  identity: choice({ schema: z.string(), flag: { kind: 'string', name: 'identity', short: 'i', placeholder: 'FILE', help: 'private key to log in with (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)' } }),
  hostKey: choice({ schema: z.string(), flag: { kind: 'string', name: 'host-key', placeholder: 'SHA256:…', help: 'pin the target host key fingerprint without asking' } }),
  acceptNewHostKey: choice({ schema: z.boolean(), flag: { kind: 'boolean', name: 'accept-new-host-key', help: 'trust an unknown host key on first contact (for scripts)' } }),
  timeout: choice({
    schema: z.number().positive(),
    // Checked (0.1 to 3600) where SSH options are built (ssh-choices.ts parseTimeoutSeconds).
    flag: { kind: 'string', name: 'timeout', placeholder: 'SECONDS', help: 'connect timeout in seconds, fractions allowed (default 10)', parse: Number },
  }),
  passwordEnv: choice({ schema: z.string(), flag: { kind: 'string', name: 'password-env', placeholder: 'VAR', help: 'read an SSH password from this environment variable (installer ISOs)' } }),
  // The hardware choices a plan takes (`bootstrap plan` has the same flags).
  profile: choice({
    schema: z.string(),
    flag: { kind: 'string', name: 'profile', placeholder: 'NAME', help: 'hardware profile (default: the best match)' },
    manifest: { key: 'profile', read: (m) => m.profile },
    plan: (v) => ({ profile: v }),
  }),
  layout: choice({
    schema: z.string(),
    flag: { kind: 'string', name: 'layout', placeholder: 'NAME', help: "disk layout (default: the profile's)" },
    manifest: { key: 'layout.name', read: (m) => m.layout.name },
    plan: (v) => ({ layout: v }),
    check: (v, all) => checkSecondDiskFits(findLayout(v), all.secondDisk as string | undefined),
  }),
  disk: choice({
    schema: z.string(),
    flag: { kind: 'string', name: 'disk', placeholder: 'ID', help: 'install disk: by-id path, kernel name or /dev path (needed when several fit)' },
    manifest: { key: 'installDisk', read: (m) => m.installDisk.byId ?? m.installDisk.path },
    plan: (v) => ({ disk: v }),
  }),
  secondDisk: choice({
    schema: z.string(),
    flag: { kind: 'string', name: 'second-disk', placeholder: 'ID', help: 'second disk for two-disk layouts' },
    manifest: { key: 'secondDisk', read: (m) => (m.secondDisk ? (m.secondDisk.byId ?? m.secondDisk.path) : undefined) },
    plan: (v) => ({ secondDisk: v }),
  }),
  swap: choice({
    schema: z.string(), // a size as written ("8G"); the manifest keeps bytes
    flag: { kind: 'string', name: 'swap', placeholder: 'SIZE', help: 'swap size, e.g. 8G or 0 (default: from memory)' },
    manifest: { key: 'layout.swapBytes', read: (m) => (m.layout.swapBytes === undefined ? undefined : String(m.layout.swapBytes)) },
    plan: (v) => ({ swap: parseSize(v) }),
    check: (v, _all, where) => void parseSize(v, where),
  }),
  hibernate: choice({
    schema: z.boolean(),
    flag: { kind: 'boolean', name: 'hibernate', help: 'swap large enough to hibernate, used as the resume device' },
    manifest: { key: 'layout.hibernate', read: (m) => m.layout.hibernate },
    plan: (v) => ({ hibernate: v }),
  }),
  encrypt: choice({
    schema: z.boolean(),
    flag: { kind: 'boolean', name: 'encrypt', help: 'encrypted layout (LUKS); default layout luks-btrfs' },
    manifest: { key: 'layout.encrypt', read: (m) => m.layout.encrypt },
    plan: (v) => ({ encrypt: v }),
  }),
  subvolumes: choice({
    schema: z.array(z.string()),
    flag: { kind: 'repeatable', name: 'subvolume', placeholder: 'NAME[=PATH]', help: 'extra btrfs subvolume' },
    manifest: { key: 'layout.subvolumes', read: (m) => m.layout.subvolumes },
    plan: (v) => ({ subvolumes: v }),
  }),
  // How the install runs.
  loginKeys: choice({
    schema: z.array(z.string()),
    flag: { kind: 'repeatable', name: 'login-key', placeholder: 'KEY|FILE.pub', help: "a public key that may log in as root on the installed host (default: the -i key's .pub, else the ssh-agent's keys)" },
  }),
  loginUser: choice({
    schema: z.string(),
    flag: { kind: 'string', name: 'login-user', placeholder: 'USER', help: 'the user to log in as after the install, for a host whose sshd refuses root (default: found in its config)' },
    manifest: { key: 'login.user', read: (m) => m.login?.user },
    plan: (v) => ({ loginUser: v }),
    check: (v, _all, where) => {
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) throw usageError('bad-login-user', `${where}: ${JSON.stringify(v.slice(0, 40))} is not a user name`, 'give a NixOS user name: lower case letters, digits, "_" and "-", at most 32 characters, e.g. --login-user admin');
    },
  }),
  skipRekey: choice({ schema: z.boolean(), flag: { kind: 'boolean', name: 'skip-rekey', help: "install even when some of the host's secrets are not encrypted for it yet (sops updatekeys / agenix --rekey)" } }),
  allowNoLogin: choice({ schema: z.boolean(), flag: { kind: 'boolean', name: 'allow-no-login', help: 'install even when no user of the host has an authorized SSH key' } }),
  copyHostKeys: choice({
    schema: z.boolean(),
    flag: { kind: 'boolean', name: 'copy-host-keys', help: "keep the target's current host keys instead of provisioning ours" },
    // Recorded as [install] identity; the plan takes it as that identity (prepare.ts runPreparePlan).
    manifest: { key: 'install.identity', read: (m) => (m.install?.identity === 'copy-target-keys' ? true : undefined) },
  }),
  buildOn: choice({
    schema: z.enum(BUILD_ON),
    flag: { kind: 'string', name: 'build-on', placeholder: 'auto|local|remote', help: 'where nixos-anywhere builds the system', parse: parseBuildOn },
  }),
  noDiskoDeps: choice({ schema: z.boolean(), flag: { kind: 'boolean', name: 'no-disko-deps', help: 'let disko use the installer tools (saves memory on small machines)' } }),
  yes: choice({
    schema: z.boolean(),
    flag: { kind: 'boolean', name: 'yes', short: 'y', help: 'do not ask; a wipe also needs --confirm-disk (rebuild: the manifest disk)' },
    neverSaved: 'a resumed run must be told again that it may act without asking',
  }),
  confirmDisk: choice({
    schema: z.string(),
    flag: { kind: 'string', name: 'confirm-disk', placeholder: 'BY-ID', help: 'the disk that may be wiped, for scripts' },
    neverSaved: 'the wipe confirmation: given again on every run, never replayed',
  }),
  waitTimeout: choice({
    schema: z.number().positive(),
    flag: { kind: 'integer', name: 'wait-timeout', placeholder: 'SECONDS', help: 'how long to wait for the rebooted host (default 600)', min: 1, max: 86_400 },
  }),
  postKexecPort: choice({
    schema: z.number().int().min(1).max(65535),
    flag: { kind: 'integer', name: 'post-kexec-port', placeholder: 'PORT', help: "the port the kexec installer's sshd listens on (default 22)", min: 1, max: 65_535 },
    manifest: { key: 'install.postKexecPort', read: (m) => m.install?.postKexecPort },
    plan: (v) => ({ postKexecPort: v }),
  }),
  phaseTimeouts: choice({
    schema: phaseTimeoutsSchema,
    flag: { kind: 'repeatable', name: 'phase-timeout', placeholder: 'PHASE=DURATION', help: `time limit of an installer phase (defaults ${describeDefaultTimeouts()})`, parse: parsePhaseTimeoutFlags },
    manifest: { key: 'install.phaseTimeouts', read: (m) => m.install?.phaseTimeouts },
    plan: (v) => ({ phaseTimeouts: Object.fromEntries(Object.entries(v).map(([k, t]) => [k, String(t)])) }),
    check: (v) => void parsePhaseTimeouts(v),
  }),
};

export type ChoiceKey = keyof typeof INSTALL_CHOICES;
export const CHOICE_KEYS = Object.keys(INSTALL_CHOICES) as ChoiceKey[];

/** The flag a choice is given with (`--name`), or for `host` the HOST argument. */
export function flagOf(key: ChoiceKey): ChoiceFlag {
  return INSTALL_CHOICES[key].flag;
}

/** How a question names what answers it without a terminal: "--disk DISK", "HOST (the first argument)". */
export function flagHint(key: ChoiceKey): string {
  const f = flagOf(key);
  if (f.kind === 'positional') return `${f.name} (the first argument)`;
  return 'placeholder' in f ? `--${f.name} ${f.placeholder}` : `--${f.name}`;
}

function parseBuildOn(text: string): (typeof BUILD_ON)[number] {
  if (!(BUILD_ON as readonly string[]).includes(text)) throw usageError('bad-flag', `--build-on must be auto, local or remote, got "${text}"`);
  return text as (typeof BUILD_ON)[number];
}

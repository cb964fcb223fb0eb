/**
 * Every install choice, declared once (issue 14): its answers key (the key of this table, also the
 * answers file key), its zod schema, its flag and help line (choice-flags.ts, light enough for
 * --help), whether a run may save it for
 * --resume, where the host manifest records it and how a plan takes it. Derived from this table:
 * InstallAnswersSchema, checkAnswers and buildResumableAnswers (answers.ts), the manifest's choices
 * as answers and the plan's answers (choice-maps.ts), the install flags and the generic flag reader
 * (cli/install-flags.ts). Free of cli/ types: the CLI layer turns `flag` into its OptionSpec.
 *
 * The order is the answers schema's: the first bad key of an answers file is the one reported.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { BUILD_ON, CHOICE_FLAGS, KEXEC_FROM, type ChoiceFlag, type ChoiceKey } from './choice-flags.js';
import { checkKexecImageAnswers, parseKexecSha256 } from '../../installer/kexec-image.js';
import type { KexecAnswers } from '../../installer/kexec-route.js';
import { usageError } from '../../errors.js';
import type { Manifest } from '../../manifest/schema.js';
import { parsePhaseTimeouts } from '../../nix/phases.js';
import { findLayout } from '../../render/disko/index.js';
import { checkHostName, checkSecondDiskFits, parseSize } from '../../render/plan-choices.js';
import type { PlanAnswers } from '../../render/plan.js';

export { CHOICE_KEYS, flagHint, flagOf, type ChoiceFlag, type ChoiceKey } from './choice-flags.js';

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

const phaseTimeoutsSchema = z.record(z.string(), z.union([z.string(), z.number()]));

export const INSTALL_CHOICES = {
  host: choice({ schema: z.string(), flag: CHOICE_FLAGS.host, manifest: { key: 'host', read: (m) => m.host }, check: (v) => void checkHostName(v) }),
  target: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.target,
    manifest: { key: 'target', read: (m) => m.target },
  }),
  // The SSH choices: the same flags as `probe` and `plan` (ssh/ssh-choices.ts reads them).
  identity: choice({ schema: z.string(), flag: CHOICE_FLAGS.identity }),
  hostKey: choice({ schema: z.string(), flag: CHOICE_FLAGS.hostKey }),
  acceptNewHostKey: choice({ schema: z.boolean(), flag: CHOICE_FLAGS.acceptNewHostKey }),
  timeout: choice({
    schema: z.number().positive(),
    // Checked (0.1 to 3600) where SSH options are built (ssh-choices.ts parseTimeoutSeconds).
    flag: CHOICE_FLAGS.timeout,
  }),
  passwordEnv: choice({ schema: z.string(), flag: CHOICE_FLAGS.passwordEnv }),
  sshConfig: choice({ schema: z.string(), flag: CHOICE_FLAGS.sshConfig }),
  // The hardware choices a plan takes (`bootstrap plan` has the same flags).
  profile: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.profile,
    manifest: { key: 'profile', read: (m) => m.profile },
    plan: (v) => ({ profile: v }),
  }),
  layout: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.layout,
    manifest: { key: 'layout.name', read: (m) => m.layout.name },
    plan: (v) => ({ layout: v }),
    check: (v, all) => checkSecondDiskFits(findLayout(v), all.secondDisk as string | undefined),
  }),
  disk: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.disk,
    manifest: { key: 'installDisk', read: (m) => m.installDisk.byId ?? m.installDisk.path },
    plan: (v) => ({ disk: v }),
  }),
  secondDisk: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.secondDisk,
    manifest: { key: 'secondDisk', read: (m) => (m.secondDisk ? (m.secondDisk.byId ?? m.secondDisk.path) : undefined) },
    plan: (v) => ({ secondDisk: v }),
  }),
  swap: choice({
    schema: z.string(), // a size as written ("8G"); the manifest keeps bytes
    flag: CHOICE_FLAGS.swap,
    manifest: { key: 'layout.swapBytes', read: (m) => (m.layout.swapBytes === undefined ? undefined : String(m.layout.swapBytes)) },
    plan: (v) => ({ swap: parseSize(v) }),
    check: (v, _all, where) => void parseSize(v, where),
  }),
  hibernate: choice({
    schema: z.boolean(),
    flag: CHOICE_FLAGS.hibernate,
    manifest: { key: 'layout.hibernate', read: (m) => m.layout.hibernate },
    plan: (v) => ({ hibernate: v }),
  }),
  encrypt: choice({
    schema: z.boolean(),
    flag: CHOICE_FLAGS.encrypt,
    manifest: { key: 'layout.encrypt', read: (m) => m.layout.encrypt },
    plan: (v) => ({ encrypt: v }),
  }),
  subvolumes: choice({
    schema: z.array(z.string()),
    flag: CHOICE_FLAGS.subvolumes,
    manifest: { key: 'layout.subvolumes', read: (m) => m.layout.subvolumes },
    plan: (v) => ({ subvolumes: v }),
  }),
  // How the install runs.
  loginKeys: choice({
    schema: z.array(z.string()),
    flag: CHOICE_FLAGS.loginKeys,
  }),
  loginUser: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.loginUser,
    manifest: { key: 'login.user', read: (m) => m.login?.user },
    plan: (v) => ({ loginUser: v }),
    check: (v, _all, where) => {
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) throw usageError('bad-login-user', `${where}: ${JSON.stringify(v.slice(0, 40))} is not a user name`, 'give a NixOS user name: lower case letters, digits, "_" and "-", at most 32 characters, e.g. --login-user admin');
    },
  }),
  skipRekey: choice({ schema: z.boolean(), flag: CHOICE_FLAGS.skipRekey }),
  allowNoLogin: choice({ schema: z.boolean(), flag: CHOICE_FLAGS.allowNoLogin }),
  allowLockout: choice({ schema: z.boolean(), flag: CHOICE_FLAGS.allowLockout }),
  copyHostKeys: choice({
    schema: z.boolean(),
    flag: CHOICE_FLAGS.copyHostKeys,
    // Recorded as [install] identity; the plan takes it as that identity (prepare.ts runPreparePlan).
    manifest: { key: 'install.identity', read: (m) => (m.install?.identity === 'copy-target-keys' ? true : undefined) },
  }),
  buildOn: choice({
    schema: z.enum(BUILD_ON),
    flag: CHOICE_FLAGS.buildOn,
  }),
  noDiskoDeps: choice({ schema: z.boolean(), flag: CHOICE_FLAGS.noDiskoDeps }),
  yes: choice({
    schema: z.boolean(),
    flag: CHOICE_FLAGS.yes,
    neverSaved: 'a resumed run must be told again that it may act without asking',
  }),
  confirmDisk: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.confirmDisk,
    neverSaved: 'the wipe confirmation: given again on every run, never replayed',
  }),
  waitTimeout: choice({
    schema: z.number().positive(),
    flag: CHOICE_FLAGS.waitTimeout,
  }),
  postKexecPort: choice({
    schema: z.number().int().min(1).max(65535),
    flag: CHOICE_FLAGS.postKexecPort,
    manifest: { key: 'install.postKexecPort', read: (m) => m.install?.postKexecPort },
    plan: (v) => ({ postKexecPort: v }),
  }),
  // The kexec image's route and pin (installer/kexec-route.ts): each key checks the whole set, so
  // the first bad key of an answers file names what is missing.
  kexecFrom: choice({ schema: z.enum(KEXEC_FROM), flag: CHOICE_FLAGS.kexecFrom, check: (_v, all, where) => checkKexecImageAnswers(all as KexecAnswers, where) }),
  kexecImage: choice({ schema: z.string(), flag: CHOICE_FLAGS.kexecImage, check: (_v, all, where) => checkKexecImageAnswers(all as KexecAnswers, where) }),
  kexecUrl: choice({ schema: z.string(), flag: CHOICE_FLAGS.kexecUrl, check: (_v, all, where) => checkKexecImageAnswers(all as KexecAnswers, where) }),
  kexecSha256: choice({
    schema: z.string(),
    flag: CHOICE_FLAGS.kexecSha256,
    check: (v, all, where) => {
      parseKexecSha256(v, where);
      checkKexecImageAnswers(all as KexecAnswers, where);
    },
  }),
  phaseTimeouts: choice({
    schema: phaseTimeoutsSchema,
    flag: CHOICE_FLAGS.phaseTimeouts,
    manifest: { key: 'install.phaseTimeouts', read: (m) => m.install?.phaseTimeouts },
    plan: (v) => ({ phaseTimeouts: Object.fromEntries(Object.entries(v).map(([k, t]) => [k, String(t)])) }),
    check: (v) => void parsePhaseTimeouts(v),
  }),
} satisfies Record<ChoiceKey, Choice<any>>;

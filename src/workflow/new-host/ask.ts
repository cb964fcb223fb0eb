/**
 * The wizard's questions, in order: one list, read top to bottom. Each step takes the slice of
 * context it needs and returns the answers with its own filled in. An answer given as a flag or in
 * the answers file is never asked; an answer the wizard asked is asked again, with the earlier
 * answer as its default, when the person goes back ("← back" in a list, "<" in a text answer) or
 * changes it at the review (review.ts). Without a terminal a missing required answer is a usage
 * error naming its flag, and an optional choice falls back to the plan's default.
 */
import type { AppContext } from '../../context.js';
import { parseSubvolumes, planSwapBytes, type LayoutInfo } from '../../render/disko/index.js';
import type { HardwareReport } from '../../probe/report.js';
import type { Profile } from '../../profiles/schema.js';
import { chooseProfile, rankProfiles } from '../../profiles/match.js';
import { buildDiskCandidates, formatBytes } from '../../render/install-disk.js';
import { checkHostName, parseSize, planBootChoice, planLayout } from '../../render/plan-choices.js';
import { parseTarget } from '../../ssh/target.js';
import { messageOf } from '../../errors.js';
import type { InstallAnswers } from '../install/answers.js';
import { askLoginKeys, type StoreOpener } from '../install/login.js';
import { BACK, buildLayoutQuestion, encryptedVariantOf, parseSubvolumeList, plainLayoutOf, supportsSubvolumes, type Back } from './choices.js';
import { flagHint } from '../install/choices.js';

export { BACK } from './choices.js';

/** What the steps may use: the prompts, the hardware report (probed when first needed). */
export interface WizardCtx {
  app: Pick<AppContext, 'prompts' | 'cwd' | 'env' | 'run' | 'signal'>;
  profiles: readonly Profile[];
  /** The target's report: probed on first use, again after the target changed. */
  report(a: InstallAnswers): Promise<HardwareReport>;
  /** The -i key for these answers (the login question's default). */
  identityFile(a: InstallAnswers): string | undefined;
  /** Checks right after the host name (a .sops.yaml we could not extend stops the run here). */
  checkHost?(host: string): Promise<void>;
  /** The flake's secret store, for a login key given as a reference (op://…, local:…). */
  openStore?: StoreOpener;
}

export type StepId = 'host' | 'target' | 'login' | 'profile' | 'disk' | 'layout' | 'encrypt' | 'swap' | 'subvolumes';

export interface WizardStep {
  id: StepId;
  /** The answer's name at the review. */
  label: string;
  /** Given as a flag or in the answers file: never asked in the first pass. */
  given(a: InstallAnswers): boolean;
  /** Whether the question means anything now (subvolumes only on btrfs, a disk only when there is a choice). */
  applies?(ctx: WizardCtx, a: InstallAnswers): Promise<boolean>;
  /** The current answer in words, for the review. */
  show(ctx: WizardCtx, a: InstallAnswers): Promise<string>;
  ask(ctx: WizardCtx, a: InstallAnswers, o: { canGoBack: boolean }): Promise<InstallAnswers | Back>;
  /** Steps asked again after this one changes at the review: their answers may no longer fit. */
  then?: StepId[];
}

const valid = (check: (v: string) => unknown) => (v: string): string | true => {
  try {
    check(v);
    return true;
  } catch (e) {
    return messageOf(e);
  }
};
/** "<" at a text question goes back (a select has a "← back" choice instead). */
const backable = (canGoBack: boolean, check: (v: string) => unknown) => valid((v) => (canGoBack && v.trim() === '<' ? true : check(v)));
const wentBack = (canGoBack: boolean, v: string) => canGoBack && v.trim() === '<';
const backHint = (canGoBack: boolean) => (canGoBack ? ' ("<" goes back)' : '');
const backChoice = (canGoBack: boolean) => (canGoBack ? [{ value: BACK, name: '← back' }] : []);

const interactive = async (ctx: WizardCtx) => ctx.app.prompts.interactive;

async function machine(ctx: WizardCtx, a: InstallAnswers): Promise<{ report: HardwareReport; profile: Profile; layout: LayoutInfo; usable: number }> {
  const report = await ctx.report(a);
  const profile = chooseProfile(report, ctx.profiles, a.profile).profile;
  const usable = buildDiskCandidates(report).candidates.length;
  const boot = planBootChoice(profile, report).boot;
  const layout = planLayout({ ...(a.layout ? { asked: a.layout } : {}), ...(a.encrypt !== undefined ? { encrypt: a.encrypt } : {}), profile, usableDisks: usable, boot });
  return { report, profile, layout, usable };
}

export const WIZARD_STEPS: readonly WizardStep[] = [
  {
    id: 'host',
    label: 'host name',
    given: (a) => a.host !== undefined,
    show: async (_, a) => a.host ?? '',
    async ask(ctx, a) {
      const host = (await ctx.app.prompts.input({ message: 'Host name (as in nixosConfigurations):', flag: flagHint('host'), ...(a.host ? { default: a.host } : {}), validate: valid(checkHostName) })).trim();
      await ctx.checkHost?.(host);
      return { ...a, host };
    },
  },
  {
    id: 'target',
    label: 'target',
    given: (a) => a.target !== undefined,
    show: async (_, a) => a.target ?? '',
    async ask(ctx, a, o) {
      const v = await ctx.app.prompts.input({ message: `Target machine (user@host[:port])${backHint(o.canGoBack)}:`, flag: flagHint('target'), ...(a.target ? { default: a.target } : {}), validate: backable(o.canGoBack, (t) => parseTarget(t)) });
      return wentBack(o.canGoBack, v) ? BACK : { ...a, target: v.trim() };
    },
  },
  {
    // Before the probe: a bad key file is asked again now, not found after connecting.
    id: 'login',
    label: 'login key (root)',
    given: (a) => (a.loginKeys?.length ?? 0) > 0,
    applies: interactive,
    show: async (_, a) => a.loginKeys?.join(', ') ?? "the -i key's .pub, else the ssh-agent's keys",
    ask: (ctx, a) => askLoginKeys(ctx.app, a, ctx.identityFile(a), { again: true, ...(ctx.openStore ? { openStore: ctx.openStore } : {}) }),
  },
  // The probe runs here, read-only, when the first of these needs the report.
  {
    id: 'profile',
    label: 'hardware profile',
    given: (a) => a.profile !== undefined,
    applies: async (ctx, a) => ctx.app.prompts.interactive && rankProfiles(await ctx.report(a), ctx.profiles).length !== 1,
    show: async (ctx, a) => (await machine(ctx, a)).profile.name,
    async ask(ctx, a, o) {
      const report = await ctx.report(a);
      const ranked = rankProfiles(report, ctx.profiles);
      // Nothing matched (an unusual machine): let the person pick rather than stop.
      const choices = ranked.length === 0 ? ctx.profiles.map((p) => ({ value: p.name, name: p.name, description: p.description })) : ranked.slice(0, 6).map((m) => ({ value: m.profile.name, name: m.profile.name, description: m.reasons.join('; ') }));
      const fallback = a.profile ?? ranked[0]?.profile.name;
      const v = await ctx.app.prompts.select({
        message: ranked.length === 0 ? 'No hardware profile matches this machine. Pick the closest:' : 'Hardware profile:',
        flag: flagHint('profile'),
        choices: [...choices, ...backChoice(o.canGoBack)],
        ...(fallback ? { default: fallback } : {}),
      });
      return v === BACK ? BACK : { ...a, profile: v };
    },
    then: ['layout', 'encrypt', 'subvolumes'],
  },
  {
    id: 'disk',
    label: 'install disk',
    given: (a) => a.disk !== undefined,
    applies: async (ctx, a) => ctx.app.prompts.interactive && buildDiskCandidates(await ctx.report(a)).candidates.length > 1,
    show: async (ctx, a) => a.disk ?? (buildDiskCandidates(await ctx.report(a)).candidates[0]?.byId[0] ?? 'the only usable disk'),
    async ask(ctx, a, o) {
      const disks = buildDiskCandidates(await ctx.report(a)).candidates;
      const v = await ctx.app.prompts.select({
        message: 'Install disk (it will be erased):',
        flag: flagHint('disk'),
        choices: [...disks.map((d) => ({ value: d.byId[0] ?? d.path, name: `${d.byId[0] ?? d.path}  ${formatBytes(d.sizeBytes)} ${d.model ?? ''}`.trim() })), ...backChoice(o.canGoBack)],
        ...(a.disk ? { default: a.disk } : {}),
      });
      return v === BACK ? BACK : { ...a, disk: v };
    },
  },
  {
    id: 'layout',
    label: 'disk layout',
    given: (a) => a.layout !== undefined,
    applies: interactive,
    show: async (ctx, a) => plainLayoutOf((await machine(ctx, a)).layout).name,
    async ask(ctx, a, o) {
      const { layout: _l, encrypt: _e0, ...open } = a;
      const { report, profile, usable } = await machine(ctx, open);
      const q = buildLayoutQuestion({ profile, usableDisks: usable, boot: planBootChoice(profile, report).boot, ...(a.layout ? { current: a.layout } : {}), ...(a.encrypt ? { encrypt: true } : {}) });
      const v = await ctx.app.prompts.select({ message: q.message, flag: flagHint('layout'), choices: [...q.choices, ...backChoice(o.canGoBack)], default: q.default });
      if (v === BACK) return BACK;
      // A plain layout for now (the machine's default as it is, encrypted or not); the encryption
      // question that follows picks between it and its encrypted variant.
      const { encrypt: _e, ...rest } = a;
      return { ...rest, layout: v === plainLayoutOf(q.machineDefault).name ? q.machineDefault.name : v };
    },
    then: ['encrypt', 'subvolumes'],
  },
  {
    id: 'encrypt',
    label: 'encryption',
    given: (a) => a.encrypt !== undefined || a.layout !== undefined,
    applies: async (ctx, a) => {
      if (!ctx.app.prompts.interactive) return false;
      const { encrypt: _e, ...open } = a;
      return encryptedVariantOf(plainLayoutOf((await machine(ctx, open)).layout)) !== undefined;
    },
    show: async (ctx, a) => {
      const l = (await machine(ctx, a)).layout;
      return l.encrypted ? `yes (LUKS, layout ${l.name})` : 'no';
    },
    async ask(ctx, a, o) {
      const current = (await machine(ctx, a)).layout;
      const plain = plainLayoutOf(current);
      const encrypted = encryptedVariantOf(plain)!;
      const v = await ctx.app.prompts.select({
        message: `Encrypt the disk with LUKS (a passphrase kept in the secret store unlocks it at boot)?`,
        flag: flagHint('encrypt'),
        choices: [{ value: 'no', name: `no (${plain.name})` }, { value: 'yes', name: `yes (${encrypted.name})` }, ...backChoice(o.canGoBack)],
        default: current.encrypted ? 'yes' : 'no',
      });
      if (v === BACK) return BACK;
      return { ...a, encrypt: v === 'yes', layout: v === 'yes' ? encrypted.name : plain.name };
    },
  },
  {
    id: 'swap',
    label: 'swap',
    given: (a) => a.swap !== undefined,
    applies: interactive,
    show: async (ctx, a) => {
      if (a.swap !== undefined) return parseSize(a.swap) > 0 ? formatBytes(parseSize(a.swap)) : 'none';
      return `${formatBytes(planSwapBytes((await ctx.report(a)).memoryBytes, { hibernate: a.hibernate ?? false }))} (default)`;
    },
    async ask(ctx, a, o) {
      const mem = (await ctx.report(a)).memoryBytes;
      const def = planSwapBytes(mem, { hibernate: a.hibernate ?? false });
      const v = await ctx.app.prompts.input({
        message: `Swap size, e.g. 8G or 512M, 0 for none (default for ${formatBytes(mem)} of memory: ${def > 0 ? formatBytes(def) : 'none'})${backHint(o.canGoBack)}:`,
        flag: flagHint('swap'),
        default: a.swap ?? (def > 0 ? formatBytes(def) : '0'),
        validate: backable(o.canGoBack, (t) => parseSize(t)),
      });
      if (wentBack(o.canGoBack, v)) return BACK;
      return { ...a, swap: v.trim() };
    },
  },
  {
    id: 'subvolumes',
    label: 'extra btrfs subvolumes',
    given: (a) => a.subvolumes !== undefined,
    applies: async (ctx, a) => ctx.app.prompts.interactive && supportsSubvolumes((await machine(ctx, a)).layout),
    show: async (_, a) => (a.subvolumes?.length ? a.subvolumes.join(', ') : 'none'),
    async ask(ctx, a, o) {
      const layout = (await machine(ctx, a)).layout;
      const known = Object.keys(layout.knownSubvolumes);
      const v = await ctx.app.prompts.input({
        message: `Extra btrfs subvolumes besides root, home, nix and log: comma-separated NAME or NAME=/mount/point${known.length ? ` (known: ${known.join(', ')})` : ''}, empty for none${backHint(o.canGoBack)}:`,
        flag: flagHint('subvolumes'),
        ...(a.subvolumes?.length ? { default: a.subvolumes.join(', ') } : {}),
        validate: backable(o.canGoBack, (t) => parseSubvolumes(parseSubvolumeList(t), layout)),
      });
      if (wentBack(o.canGoBack, v)) return BACK;
      const list = parseSubvolumeList(v);
      return { ...a, subvolumes: list };
    },
  },
];

/**
 * Ask each step in order. An answer given before the wizard started is kept and never asked; a
 * step that went back re-asks the previous question it asked, and every question after it is
 * asked again on the way forward (its earlier answer is the default).
 */
export async function runQuestions(steps: readonly WizardStep[], ctx: WizardCtx, given: InstallAnswers): Promise<InstallAnswers> {
  let a = given;
  const asked: number[] = [];
  let i = 0;
  while (i < steps.length) {
    const s = steps[i]!;
    if (s.given(given) || (s.applies && !(await s.applies(ctx, a)))) {
      i++;
      continue;
    }
    const r = await s.ask(ctx, a, { canGoBack: asked.length > 0 });
    if (r === BACK) {
      i = asked.pop()!;
      continue;
    }
    asked.push(i);
    a = r;
    i++;
  }
  return a;
}

/** Ask one answer again (the review), then the steps that depend on it, when they apply. */
export async function runChangeAnswer(steps: readonly WizardStep[], ctx: WizardCtx, a: InstallAnswers, id: StepId): Promise<InstallAnswers> {
  const step = steps.find((s) => s.id === id)!;
  const order = [id, ...(step.then ?? [])];
  let out = a;
  for (const sid of order) {
    const s = steps.find((x) => x.id === sid)!;
    if (sid !== id && s.applies && !(await s.applies(ctx, out))) {
      // No longer meaningful (subvolumes after a switch to ext4): dropped, not kept silently.
      if (sid === 'subvolumes') {
        const { subvolumes: _s, ...rest } = out;
        out = rest;
      }
      continue;
    }
    const r = await s.ask(ctx, out, { canGoBack: false });
    if (r !== BACK) out = r;
  }
  return out;
}


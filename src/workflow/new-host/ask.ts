/**
 * The wizard's questions, in order. Each takes the slice of context it needs and returns the
 * answers with its own filled in; an answer already given (flag or answers file) is never asked
 * again. Without a terminal, a missing required answer is a usage error naming its flag, and an
 * optional choice falls back to the plan's default.
 */
import type { AppContext } from '../../context.js';
import { checkLayoutFits, DISKO_LAYOUTS } from '../../render/disko/index.js';
import type { HardwareReport } from '../../probe/report.js';
import { loadProfiles } from '../../profiles/load.js';
import { rankProfiles } from '../../profiles/match.js';
import { buildDiskCandidates } from '../../render/install-disk.js';
import { checkHostName } from '../../render/plan-choices.js';
import { parseTarget } from '../../ssh/target.js';
import { messageOf } from '../../errors.js';
import type { InstallAnswers } from '../install/answers.js';

type Ask = Pick<AppContext, 'prompts'>;

const valid = (check: (v: string) => unknown) => (v: string): string | true => {
  try {
    check(v);
    return true;
  } catch (e) {
    return messageOf(e);
  }
};

export async function askHost(app: Ask, a: InstallAnswers): Promise<InstallAnswers> {
  if (a.host) return { ...a, host: checkHostName(a.host) };
  const host = await app.prompts.input({ message: 'Host name (as in nixosConfigurations):', flag: 'HOST (the first argument)', validate: valid(checkHostName) });
  return { ...a, host: host.trim() };
}

export async function askTarget(app: Ask, a: InstallAnswers): Promise<InstallAnswers> {
  if (a.target) return a;
  const target = await app.prompts.input({ message: 'Target machine (user@host[:port]):', flag: '--target USER@HOST[:PORT]', validate: valid((v) => parseTarget(v)) });
  return { ...a, target: target.trim() };
}

/** After the probe: which profile, layout and disk. Asked only on a terminal and only when open. */
export async function askHardwareChoices(app: Ask, report: HardwareReport, a: InstallAnswers): Promise<InstallAnswers> {
  if (!app.prompts.interactive) return a;
  let out = { ...a };
  if (!out.profile) {
    const profiles = await loadProfiles();
    const ranked = rankProfiles(report, profiles);
    if (ranked.length === 0) {
      // Nothing matched (an unusual machine): let the person pick rather than stop.
      out.profile = await app.prompts.select({
        message: 'No hardware profile matches this machine. Pick the closest:',
        flag: '--profile',
        choices: profiles.map((p) => ({ value: p.name, name: p.name, description: p.description })),
      });
    } else if (ranked.length > 1) {
      out.profile = await app.prompts.select({
        message: 'Hardware profile:',
        flag: '--profile',
        choices: ranked.slice(0, 6).map((m) => ({ value: m.profile.name, name: m.profile.name, description: m.reasons.join('; ') })),
        default: ranked[0]!.profile.name,
      });
    }
  }
  const disks = buildDiskCandidates(report).candidates;
  if (!out.disk && disks.length > 1) {
    out.disk = await app.prompts.select({
      message: 'Install disk (it will be erased):',
      flag: '--disk',
      choices: disks.map((d) => ({ value: d.byId[0] ?? d.path, name: `${d.byId[0] ?? d.path}  ${(d.sizeBytes / 1e9).toFixed(1)} GB ${d.model ?? ''}`.trim() })),
    });
  }
  if (!out.layout) {
    const boot = report.firmware === 'uefi' ? 'uefi' : 'bios';
    const fitting = DISKO_LAYOUTS.filter((l) => {
      try {
        checkLayoutFits(l, disks.length, boot);
        return l.boot.includes(boot);
      } catch {
        return false;
      }
    });
    const choice = await app.prompts.select({
      message: 'Disk layout:',
      flag: '--layout',
      choices: [{ value: '', name: "the profile's default" }, ...fitting.map((l) => ({ value: l.name, name: l.name, description: l.description }))],
      default: '',
    });
    if (choice) out = { ...out, layout: choice };
  }
  return out;
}

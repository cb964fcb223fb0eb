/**
 * What an install does besides the host's own files, for the plan a person confirms (issue 11):
 * where the host's keys are kept, which recipient files get the host's key, and whether flake.nix
 * picks up the host yet. Read-only: the recipient edits are planned with a stand-in key (the real
 * one is made after the confirmation), only to name what will change.
 */
import { hostDir } from '../../config/host-dir.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { anchorFor, planSopsYaml } from '../../recipients/sops-yaml.js';
import type { PlanContext } from '../../render/plan-print.js';
import { buildFlakeHint } from '../plan/flake-hint.js';
import type { Pickup } from '../plan/flake-pickup.js';

/** A well-formed age recipient standing in for the host's, which does not exist yet. */
const STAND_IN_RECIPIENT = 'age1v2a82mv6vjr6j3smezf6a8lflq4ld73j5jaryygqzdrcntp5u3dqvpaaeg';

const readText = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/** The secret store in words. Pure. */
export function describeSecretStore(config: LoadedConfig['config']): string {
  if (config.secrets.store === 'onepassword') return `1Password vault ${config.secrets.onepassword?.vault ?? '(none configured)'}`;
  const admins = config.secrets.local.recipients.length;
  return `local age vault ${config.secrets.local.dir}/ in the flake${admins ? `, encrypted to ${admins} admin recipient${admins === 1 ? '' : 's'}` : ''}`;
}

/** The recipient file edits in words, given the file's current text (undefined: no file). Pure. */
export function describeRecipientEdits(config: LoadedConfig['config'], host: string, existing: string | undefined): string {
  const sops = config.sops;
  if (sops.mode === 'none') return 'none (sops mode "none")';
  if (sops.mode === 'agenix') {
    return existing === undefined ? `${sops.agenixFile} does not exist: the line to add is printed` : `${sops.agenixFile}: ${host} = "<host ssh key>", then agenix --rekey`;
  }
  const anchor = anchorFor(host);
  if (existing === undefined) return `${sops.file} is created: keys &${anchor} (the host's age key), rule hosts/${host}/secrets\\.ya?ml$${sops.rules.length ? `, and the [sops] rules ${sops.rules.join(', ')}` : ''}`;
  try {
    const plan = planSopsYaml(existing, { host, recipient: STAND_IN_RECIPIENT, extraRules: sops.rules }, sops.file);
    const rules = plan.rules.length ? `, in rule${plan.rules.length === 1 ? '' : 's'} ${plan.rules.join(', ')}` : '; no creation rule names the host yet';
    return `${sops.file}: keys &${anchor} (the host's age key)${rules}, then sops updatekeys`;
  } catch {
    return `${sops.file}: the host's age key as &${anchor}`;
  }
}

/** `pickup`: whether flake.nix picks up the host, as evaluated (flake-pickup.ts); a hint only when it does not. */
export async function buildPlanContext(loaded: LoadedConfig, host: string, pickup?: Pickup): Promise<PlanContext> {
  const { config, flakeDir } = loaded;
  const recipientFile = config.sops.mode === 'sops' ? config.sops.file : config.sops.mode === 'agenix' ? config.sops.agenixFile : undefined;
  const existing = recipientFile ? await readText(join(flakeDir, recipientFile)) : undefined;
  const flake = await readText(join(flakeDir, 'flake.nix'));
  return {
    secretStore: describeSecretStore(config),
    recipients: describeRecipientEdits(config, host, existing),
    ...(flake !== undefined && pickup?.kind === 'no' ? { flakeHint: { dir: hostDir(config, host), lines: buildFlakeHint(flake, config.hostsDir, host, hostDir(config, host)) } } : {}),
  };
}

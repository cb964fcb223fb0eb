/**
 * The .sops.yaml bootstrap writes for a flake that has none (sops-yaml.ts edits an existing one).
 */
import { stringify } from 'yaml';
import { usageError } from '../errors.js';
import { anchorFor } from './sops-yaml.js';

/**
 * Pure: a new .sops.yaml for a flake that has none: admins and the host, one rule for the host's
 * own secrets file, then one rule per [sops] rules entry (admins and the host), in that order
 * (sops uses the first rule that matches a file). Later hosts join those rules like any other.
 * @throws usageError 'bad-sops-rule' for a rule that is not a regular expression
 */
export function buildNewSopsYaml(host: string, recipient: string, admins: string[], o: { extraRules?: readonly string[]; hostDir?: string } = {}): string {
  const anchor = anchorFor(host);
  const adminKeys = admins.map((r, i) => `  - &admin_${i + 1} ${r}\n`).join('');
  const refs = [...admins.map((_, i) => `          - *admin_${i + 1}\n`), `          - *${anchor}\n`].join('');
  const dir = o.hostDir ?? `hosts/${host}`;
  const own = `${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/secrets\\.ya?ml$`;
  const rules = [own, ...(o.extraRules ?? []).filter((r) => r !== own)].map((r) => {
    checkSopsRule(r);
    return `  - path_regex: ${stringify(r).trimEnd()}\n    key_groups:\n      - age:\n${refs}`;
  });
  return '# sops creation rules. Created by `bootstrap keys ensure`; edit freely, bootstrap only adds hosts.\n' + `keys:\n${adminKeys}  - &${anchor} ${recipient}\n` + 'creation_rules:\n' + rules.join('');
}

/** A [sops] rules entry must be a regular expression (sops compiles path_regex; a bad one fails every sops call). */
function checkSopsRule(rule: string): void {
  let ok = rule.trim() !== '' && !rule.includes('\n');
  try {
    new RegExp(rule);
  } catch {
    ok = false;
  }
  if (!ok) throw usageError('bad-sops-rule', `[sops] rules in bootstrap.toml: ${JSON.stringify(rule)} is not a regular expression sops can use as a path_regex`, 'fix or remove it in bootstrap.toml (e.g. "secrets/common/.*"), then run again');
}

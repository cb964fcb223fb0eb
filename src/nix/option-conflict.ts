/**
 * nix's "conflicting definition values" error, read and turned into what to change (issue 18).
 * The module system prints (nixpkgs lib/modules.nix, mergeEqualOption / mergeOneOption):
 *
 *   error: The option `system.stateVersion' has conflicting definition values:
 *          - In `/nix/store/…-source/hosts/web1/default.nix': "25.05"
 *          - In `/nix/store/…-source/configuration.nix': "23.11"
 *          Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.
 *
 * Store paths are shown relative to the flake. Pure.
 */

export interface OptionDefinition {
  /** The file, relative to the flake when it lies in the flake's source (else as nix printed it). */
  file: string;
  /** The value as nix printed it (first line only). */
  value: string;
}

export interface OptionConflict {
  option: string;
  definitions: OptionDefinition[];
}

/** `/nix/store/HASH-source/a/b.nix` → `a/b.nix`; a path under flakeDir → relative to it. */
export function buildFlakeRelative(file: string, flakeDir?: string): string {
  const dir = flakeDir?.replace(/\/+$/, '');
  if (dir && file.startsWith(`${dir}/`)) return file.slice(dir.length + 1);
  const m = /^\/nix\/store\/[0-9a-z]{32}-[^/]+\/(.+)$/.exec(file);
  return m ? m[1]! : file;
}

/** The first conflict in nix's stderr, or undefined when there is none. */
export function parseOptionConflict(stderr: string, flakeDir?: string): OptionConflict | undefined {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => /The option `[^']+' has conflicting definition values:/.test(l));
  if (at < 0) return undefined;
  const option = /The option `([^']+)'/.exec(lines[at]!)![1]!;
  const definitions: OptionDefinition[] = [];
  for (const line of lines.slice(at + 1)) {
    const m = /^\s*- In `([^']+)': ?(.*)$/.exec(line);
    if (!m) break;
    // A password or secret set in a module is not repeated in our output (nix printed it, we need not).
    const value = /password|secret|token|private/i.test(option) ? '' : m[2]!.trim();
    definitions.push({ file: buildFlakeRelative(m[1]!, flakeDir), value });
  }
  return definitions.length >= 2 ? { option, definitions } : undefined;
}

/**
 * The error text and the one-line change. When one definition is in the host's own default.nix
 * (what bootstrap wrote), removing that line lets the user's module win (it is a `lib.mkDefault`
 * in files bootstrap writes now, but an older file, or a user's own mkDefault of the same option,
 * still collides); otherwise the user picks the winner with `lib.mkForce`.
 */
export function describeOptionConflict(c: OptionConflict, hostDefaultNix: string): { message: string; hint: string } {
  // A folder imported as a module (`./hosts/web1`) is its default.nix.
  const dir = hostDefaultNix.replace(/\/default\.nix$/, '');
  const definitions = c.definitions.map((d) => (d.file === dir ? { ...d, file: hostDefaultNix } : d));
  const defs = definitions.map((d) => `${d.file} sets ${d.value || '(a value)'}`).join(', ');
  const message = `option ${c.option} is set twice with different values: ${defs}`;
  const ours = definitions.find((d) => d.file === hostDefaultNix);
  const other = definitions.find((d) => d !== ours)!;
  const leaf = c.option.split('.').pop()!;
  const after = 'then run again with --resume; nothing on the target was touched';
  if (ours) return { message, hint: `in ${ours.file}, delete the line \`${leaf} = …;\` of ${c.option} (bootstrap's starting value), so ${other.file}'s ${other.value || 'value'} applies; ${after}` };
  const single = other.value !== '' && !/[{[]$/.test(other.value);
  return { message, hint: `keep one: in ${other.file}, write \`${c.option} = lib.mkForce ${single ? other.value : '…'};\` (or remove one of the definitions); ${after}` };
}

/**
 * One idea, one name, one set of values (issue 14): how a host receives its secret files is
 * bootstrap.toml's [sops] mode (sops | agenix | none). The storage renderers and the `--secrets`
 * flag of `cache setup|create` and `backup setup` take those values; the flag also keeps its old
 * "extra-files" as an alias of "none". These tests fail if a second value set comes back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { backupCommands } from '../../src/cli/commands/backup.js';
import { cacheCommands, SECRETS_MODE_OPTION } from '../../src/cli/commands/cache.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { SECRETS_MODES, type SecretsMode } from '../../src/config/sections/secrets-mode.js';
import { isBootstrapError } from '../../src/errors.js';
import { toNix } from '../../src/nix/serialize.js';
import { buildSecretPath } from '../../src/storage/host-secrets.js';
import { checkSecretsMode, defaultSecretsMode, SECRETS_FLAG_ALIASES } from '../../src/workflow/storage/common.js';
import { REPO_ROOT } from '../helpers/cli.js';

/** Values worth probing: every mode, every alias, the old names, near misses and prototype keys. */
const CANDIDATES = [...SECRETS_MODES, ...SECRETS_FLAG_ALIASES.keys(), 'extra-files', 'extraFiles', 'plain', 'files', 'Sops', 'SOPS', ' sops', '', 'constructor', '__proto__', 'toString'];

/**
 * A second value set: a type union of the values (or the old "extra-files"), a list starting with
 * two mode names, or the old names. (The alias entry ['extra-files', 'none'] is not a list of modes.)
 */
const VALUE = `'(?:sops|agenix|none|extra-files)'`;
const MODE = `'(?:sops|agenix|none)'`;
const SECOND_SET = new RegExp(`${VALUE}\\s*\\|\\s*${VALUE}|\\[\\s*${MODE}\\s*,\\s*${MODE}|SecretMechanism|SECRET_MECHANISMS`);

const loadedWith = (mode?: string): LoadedConfig =>
  ({ flakeDir: '/flake', file: '/flake/bootstrap.toml', exists: true, config: ConfigSchema.parse(mode === undefined ? {} : { sops: { mode } }) });

const flagAccepts = (v: string) => {
  try {
    checkSecretsMode(v, 'sops');
    return true;
  } catch {
    return false;
  }
};

describe('--secrets takes [sops] mode values', () => {
  it('accepts sops, agenix and none as themselves', () => {
    for (const m of SECRETS_MODES) assert.equal(checkSecretsMode(m, m === 'sops' ? 'agenix' : 'sops'), m);
  });

  it('accepts "extra-files" (its old value) as an alias of none: the same result', () => {
    assert.equal(checkSecretsMode('none', 'sops'), 'none');
    assert.equal(checkSecretsMode('extra-files', 'sops'), checkSecretsMode('none', 'sops'));
    assert.deepEqual(buildSecretPath(checkSecretsMode('extra-files', 'sops'), 'restic-password'), '/var/lib/bootstrap/secrets/restic-password');
  });

  it('refuses any other value, naming the choices (and not the alias)', () => {
    for (const bad of ['vault', 'extraFiles', 'Sops', ' sops', '', 'constructor', '__proto__', 'toString']) {
      assert.throws(() => checkSecretsMode(bad, 'sops'), (e: unknown) => {
        assert.ok(isBootstrapError(e), String(e));
        assert.equal(e.kind, 'usage');
        assert.equal(e.code, 'bad-flag');
        assert.equal(e.message, `--secrets must be one of sops, agenix, none, got "${bad}"`);
        return true;
      }, bad);
    }
  });

  it('defaults to [sops] mode, whatever it is (sops when bootstrap.toml says nothing)', () => {
    assert.equal(defaultSecretsMode(loadedWith()), 'sops');
    for (const m of SECRETS_MODES) {
      assert.equal(defaultSecretsMode(loadedWith(m)), m);
      assert.equal(checkSecretsMode(undefined, defaultSecretsMode(loadedWith(m))), m);
    }
  });

  it('help shows the config values and the default, never the alias', () => {
    assert.equal(SECRETS_MODE_OPTION.placeholder, 'sops|agenix|none');
    assert.equal(SECRETS_MODE_OPTION.description, 'how the host gets secret files: sops, agenix or none (plain files delivered at install); default: [sops] mode');
    for (const name of ['cache setup', 'cache create', 'backup setup']) {
      const spec = [...cacheCommands, ...backupCommands].find((c) => c.name === name);
      assert.ok(spec?.options.includes(SECRETS_MODE_OPTION), `${name} takes --secrets`);
    }
    assert.doesNotMatch(JSON.stringify(SECRETS_MODE_OPTION), /extra-files/);
  });
});

describe('one value set for the secrets mode', () => {
  it('the config accepts exactly SECRETS_MODES; the flag accepts exactly those plus its one alias', () => {
    const configAccepts = CANDIDATES.filter((v) => ConfigSchema.safeParse({ sops: { mode: v } }).success);
    assert.deepEqual([...new Set(configAccepts)], [...SECRETS_MODES]);
    assert.deepEqual([...SECRETS_MODES], ['sops', 'agenix', 'none']);
    assert.deepEqual([...new Set(CANDIDATES.filter(flagAccepts))], [...SECRETS_MODES, 'extra-files']);
    assert.deepEqual([...SECRETS_FLAG_ALIASES], [['extra-files', 'none']]);
    for (const [alias, mode] of SECRETS_FLAG_ALIASES) {
      assert.ok(!(SECRETS_MODES as readonly string[]).includes(alias), `${alias} is an alias, not a mode`);
      assert.ok(SECRETS_MODES.includes(mode), `${alias} maps to a mode`);
    }
  });

  it('every mode renders a secret path (the renderers take the same values)', () => {
    const seen = SECRETS_MODES.map((m: SecretsMode) => toNix(buildSecretPath(m, 'attic-env')));
    assert.equal(new Set(seen).size, SECRETS_MODES.length);
  });

  it('no source file spells the values out again (only src/config/sections/secrets-mode.ts declares them)', () => {
    const SRC = join(REPO_ROOT, 'src');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const found: string[] = [];
    for (const f of files(SRC)) {
      const rel = relative(SRC, f);
      if (rel === 'config/sections/secrets-mode.ts') continue;
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (SECOND_SET.test(line)) found.push(`src/${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, [], `use SecretsMode / SECRETS_MODES from src/config/sections/secrets-mode.ts:\n${found.join('\n')}`);
  });

  it('the check sees a second set: the declaration itself, and the old type, match', () => {
    assert.match(readFileSync(join(REPO_ROOT, 'src/config/sections/secrets-mode.ts'), 'utf8'), SECOND_SET);
    assert.match("export type SecretMechanism = 'sops' | 'agenix' | 'extra-files';", SECOND_SET);
    assert.match("const m = ['agenix', 'none'];", SECOND_SET);
    assert.match("mode: 'sops' | 'agenix' | 'none'", SECOND_SET);
  });
});

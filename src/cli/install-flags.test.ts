/**
 * The install flags are derived from the choice table (workflow/install/choices.ts): every choice
 * has its flag on new-host, every flag of an install command is a choice or one of the few flags
 * that say how a command runs, the generic reader fills every answer, and help lists them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../errors.js';
import { DEFAULT_PHASE_TIMEOUTS_MS, PHASES } from '../nix/phases.js';
import { InstallAnswersSchema } from '../workflow/install/answers.js';
import { CHOICE_KEYS, flagOf, type ChoiceKey } from '../workflow/install/choices.js';
import { INSTALL_STEP_IDS } from '../workflow/install/step-ids.js';
import { parseCommandArgs, type OptionSpec } from './args.js';
import { installCommands } from './commands/install.js';
import { PLAN_CHOICE_KEYS, planCommands } from './commands/plan.js';
import { commandHelp } from './help.js';
import { buildAnswersFromArgs, choiceOption, readChoiceFlags } from './install-flags.js';

const spec = (name: string) => [...installCommands, ...planCommands].find((c) => c.name === name)!;
const parse = (command: string, argv: string[]) => parseCommandArgs(command, argv, spec(command).options, 1);

/** Flags that say how an install command runs, not what it installs: the only ones that are not choices. */
const NOT_ANSWERS = ['answers', 'resume', 'from', 'dry-run', 'flake', 'json', 'hosts', 'parallel', 'via-rescue'];
const FLAGGED = CHOICE_KEYS.filter((k) => flagOf(k).kind !== 'positional');
const choiceByFlag = new Map(FLAGGED.map((k) => [flagOf(k).name, k]));

test('every option of new-host, rebuild and recover is an install choice (as the table declares it) or a run flag', () => {
  for (const command of ['new-host', 'rebuild', 'recover']) {
    for (const o of spec(command).options) {
      const key = choiceByFlag.get(o.name);
      if (key === undefined) {
        assert.ok(NOT_ANSWERS.includes(o.name), `${command} --${o.name} is neither an install choice nor a run flag: declare it in workflow/install/choices.ts`);
        continue;
      }
      // Built from the table, not written by hand: only the help line may be the command's own.
      const { description: _own, ...shape } = o;
      const { description: _table, ...declared } = choiceOption(key);
      assert.deepEqual(shape, declared, `${command} --${o.name} differs from choice ${key}`);
    }
  }
});

test('new-host takes every install choice; rebuild and recover all but the hardware ones the manifest holds', () => {
  const keysOf = (command: string) => spec(command).options.map((o) => choiceByFlag.get(o.name)).filter((k): k is ChoiceKey => k !== undefined).sort();
  assert.deepEqual(keysOf('new-host'), [...FLAGGED].sort());
  const notReplanned = FLAGGED.filter((k) => !(PLAN_CHOICE_KEYS as readonly string[]).includes(k));
  assert.deepEqual(keysOf('rebuild'), [...notReplanned].sort());
  assert.deepEqual(keysOf('recover'), [...notReplanned, 'disk', 'secondDisk'].sort());
  assert.equal(flagOf('host').kind, 'positional', 'host is the HOST argument');
  assert.equal(spec('new-host').positionals[0]?.name, 'HOST');
});

/** One command line giving every install flag: [argv, the answer each key must read as]. */
function everyFlag(): { argv: string[]; want: Record<string, unknown> } {
  const strings: Partial<Record<ChoiceKey, [string, unknown]>> = {
    target: ['root@203.0.113.7:2222', 'root@203.0.113.7:2222'],
    identity: ['keys/id', 'keys/id'],
    hostKey: ['SHA256:abc', 'SHA256:abc'],
    timeout: ['2.5', 2.5],
    passwordEnv: ['PW', 'PW'],
    sshConfig: ['ssh_config', 'ssh_config'],
    profile: ['generic-vm', 'generic-vm'],
    layout: ['btrfs-raid1', 'btrfs-raid1'],
    disk: ['vda', 'vda'],
    secondDisk: ['vdb', 'vdb'],
    swap: ['8G', '8G'],
    buildOn: ['remote', 'remote'],
    confirmDisk: ['/dev/vda', '/dev/vda'],
    kexecFrom: ['url', 'url'],
    kexecUrl: ['https://images.example/nixos-kexec-installer.tar.gz', 'https://images.example/nixos-kexec-installer.tar.gz'],
    kexecImage: ['/srv/images/nixos-kexec-installer.tar.gz', '/srv/images/nixos-kexec-installer.tar.gz'],
    kexecSha256: ['a'.repeat(64), 'a'.repeat(64)],
    loginUser: ['admin', 'admin'],
  };
  const argv: string[] = [];
  const want: Record<string, unknown> = {};
  const give = (key: ChoiceKey, value: unknown, ...words: string[]) => {
    argv.push(...words);
    want[key] = value;
  };
  for (const key of FLAGGED) {
    const f = flagOf(key);
    if (f.kind === 'positional') continue;
    const flag = `--${f.name}`;
    if (f.kind === 'boolean') give(key, true, flag);
    else if (f.kind === 'integer') give(key, f.max, flag, String(f.max));
    else if (key === 'phaseTimeouts') give(key, { install: '2h', kexec: '900' }, flag, 'install=2h', flag, 'kexec=900');
    else if (f.kind === 'repeatable') give(key, ['a', 'b'], flag, 'a', flag, 'b');
    else {
      const sample = strings[key];
      assert.ok(sample, `no sample value for ${flag} in this test`);
      give(key, sample[1], flag, sample[0]);
    }
  }
  return { argv, want };
}

test('the generic reader fills every answer from its flag, as the answers schema types it', () => {
  const { argv, want } = everyFlag();
  const a = readChoiceFlags(parse('new-host', ['web1', ...argv]));
  const plain = { ...a, phaseTimeouts: { ...a.phaseTimeouts } }; // the flag parser's record has no prototype
  assert.deepEqual(plain, want);
  assert.deepEqual(InstallAnswersSchema.parse(a), plain, 'what the flags give is what an answers file may hold');
  assert.deepEqual(readChoiceFlags(parse('new-host', ['web1'])), {}, 'no flag, no answer (a file value stands)');
});

test('the schema has exactly the choice keys, and refuses any other', () => {
  assert.deepEqual(Object.keys(InstallAnswersSchema.shape), CHOICE_KEYS);
  assert.equal(InstallAnswersSchema.safeParse({ hibernat: true }).success, false);
});

test('bad flag values are refused with the flag named, before any connection', () => {
  const refuses = (argv: string[], message: RegExp) =>
    assert.throws(() => buildAnswersFromArgs(parse('new-host', ['web1', ...argv])), (e) => isBootstrapError(e) && e.kind === 'usage' && message.test(e.message), argv.join(' '));
  refuses(['--build-on', 'cloud'], /^--build-on must be auto, local or remote, got "cloud"$/);
  refuses(['--wait-timeout', '0'], /^--wait-timeout must be a whole number from 1 to 86400, got "0"$/);
  refuses(['--post-kexec-port', '65536'], /^--post-kexec-port must be a whole number from 1 to 65535/);
  refuses(['--kexec-from', 'github'], /^--kexec-from must be local, url or cache, got "github"/);
  refuses(['--phase-timeout', 'install'], /--phase-timeout takes PHASE=DURATION/);
  refuses(['--phase-timeout', 'boot=1h'], /no install phase "boot"/);
  refuses(['--swap', '8X'], /^--swap "8X" is not a size$/);
  refuses(['--layout', 'zfs'], /unknown layout/);
  refuses(['--layout', 'single-ext4', '--second-disk', 'vdb'], /layout single-ext4 uses one disk/);
});

test('help lists every install flag with its help line, --from the steps in order, the phase defaults from the phase table', () => {
  const help = commandHelp(spec('new-host'));
  for (const key of FLAGGED) {
    const f = flagOf(key);
    if (f.kind === 'positional') continue;
    assert.match(help, new RegExp(`--${f.name}\\b.*${f.help.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `--${f.name}`);
  }
  const from = spec('new-host').options.find((o: OptionSpec) => o.name === 'from')!;
  assert.equal(from.description, `restart at a step (${INSTALL_STEP_IDS.join(', ')})`);
  assert.match(from.description, /preflight, kexec, disko, install, reboot, verify/);
  const defaults = PHASES.map((p) => `${p}=${DEFAULT_PHASE_TIMEOUTS_MS[p] / 60_000}m`).join(' ');
  assert.match(help, new RegExp(`--phase-timeout PHASE=DURATION +time limit of an installer phase \\(defaults ${defaults}\\)`));
});

test('a command may give a choice its own help line, never its own flag shape', () => {
  const plan = spec('plan').options.find((o) => o.name === 'target')!;
  assert.equal(plan.description, 'probe this machine over SSH');
  assert.deepEqual({ ...plan, description: '' }, { ...choiceOption('target'), description: '' });
  assert.throws(() => choiceOption('host'), /HOST argument, not a flag/);
});

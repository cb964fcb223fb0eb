/**
 * `bootstrap completion bash|zsh|fish` loaded into the real shells (bash with Debian's bash-completion,
 * zsh typed into in tmux, fish) and asked for completions the way a TAB asks: commands, subcommands, every command's flags
 * as its spec declares them, the values of flags with choices, and host names from the flake's
 * manifests through `bootstrap completion hosts` (a `bootstrap` on PATH running this checkout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../src/cli/commands.js';
import { GLOBAL_OPTIONS } from '../../src/cli/args.js';
import { INSTALL_STEP_IDS } from '../../src/workflow/install/step-ids.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

const BASH_COMPLETION = '/usr/share/bash-completion/bash_completion';

/** A flake with two installed hosts (manifests) and a host folder without one. */
function makeFlake(dir: string): string {
  const flake = join(dir, 'flake');
  for (const h of ['web1', 'db1']) {
    mkdirSync(join(flake, 'hosts', h), { recursive: true });
    writeFileSync(join(flake, 'hosts', h, 'bootstrap.toml'), `host = "${h}"\n`);
  }
  mkdirSync(join(flake, 'hosts', 'draft'), { recursive: true });
  return flake;
}

/** `bootstrap` on PATH, as an installed one would be: this checkout's CLI. */
function makeBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'bootstrap'), `#!/bin/sh\nexec "${process.execPath}" --import "${REPO_ROOT}node_modules/tsx/dist/loader.mjs" "${REPO_ROOT}src/bin.ts" "$@"\n`);
  chmodSync(join(bin, 'bootstrap'), 0o755);
  return bin;
}

function shellEnv(dir: string, bin: string): NodeJS.ProcessEnv {
  return { PATH: `${bin}:${process.env.PATH}`, HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'cfg'), XDG_DATA_HOME: join(dir, 'data'), XDG_CACHE_HOME: join(dir, 'cache'), NO_COLOR: '1', CI: 'true' };
}

function longFlags(name: string): string[] {
  const spec = COMMANDS.find((c) => c.name === name)!;
  return [...spec.options, ...GLOBAL_OPTIONS].map((o) => `--${o.name}`).sort();
}

test('bash: the generated script, loaded after bash-completion, completes commands, flags, choices and hosts', { skip: existsSync(BASH_COMPLETION) ? false : 'bash-completion is not installed (apt-get install bash-completion)' }, async () => {
  await withTempDir(async (dir) => {
    const flake = makeFlake(dir);
    const bin = makeBin(dir);
    const gen = await runCli(['completion', 'bash']);
    assert.equal(gen.code, 0, gen.stderr);
    writeFileSync(join(dir, 'bootstrap.bash'), gen.stdout);
    // Each query: the words of the line (the last one being completed), the answers on one line.
    const queries: string[][] = [
      ['bootstrap', ''],
      ['bootstrap', 'ke'],
      ['bootstrap', 'keys', ''],
      ['bootstrap', 'plan', 'web1', '--layout', ''],
      ['bootstrap', 'new-host', 'web1', '--build-on', 'r'],
      ['bootstrap', 'cache', 'setup', 'web1', '--secrets', ''],
      ['bootstrap', 'new-host', 'web1', '--from', ''],
      ['bootstrap', 'status', '--flake', flake, ''],
      ...COMMANDS.map((c) => ['bootstrap', ...c.name.split(' '), '--']),
    ];
    const script = [
      `source ${BASH_COMPLETION}`,
      `source ${join(dir, 'bootstrap.bash')}`,
      // The function `complete` registered for bootstrap, as bash would call it on TAB.
      'fn=$(complete -p bootstrap | sed -n "s/.*-F \\([^ ]*\\) .*/\\1/p")',
      'q() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); "$fn" bootstrap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; printf "%s\\n" "$(printf "%s " "${COMPREPLY[@]}")"; }',
      ...queries.map((w) => `q ${w.map((x) => `'${x}'`).join(' ')}`),
    ].join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { env: shellEnv(dir, bin), encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const answers = r.stdout.split('\n').map((l) => l.trim().split(/\s+/).filter(Boolean).sort());
    const at = (i: number) => answers[i]!;
    assert.ok(['new-host', 'plan', 'keys', 'status', 'completion', 'rescue'].every((c) => at(0).includes(c)), at(0).join(' '));
    assert.deepEqual(at(1), ['keys']);
    assert.deepEqual(at(2), ['ensure', 'import', 'show']);
    assert.ok(at(3).includes('luks-btrfs') && at(3).includes('single-ext4'), at(3).join(' '));
    assert.deepEqual(at(4), ['remote']);
    assert.deepEqual(at(5), ['agenix', 'none', 'sops']);
    assert.deepEqual(at(6), [...INSTALL_STEP_IDS].sort(), '--from offers the install steps');
    assert.deepEqual(at(7), ['db1', 'web1'], 'hosts with a manifest, not hosts/draft');
    COMMANDS.forEach((c, i) => assert.deepEqual(at(8 + i), longFlags(c.name), `flags of ${c.name}`));
  });
});

test('fish: the generated script completes commands, flags with descriptions, choices and hosts', { skip: spawnSync('fish', ['--version']).status === 0 ? false : 'fish is not installed (apt-get install fish)' }, async () => {
  await withTempDir(async (dir) => {
    const flake = makeFlake(dir);
    const bin = makeBin(dir);
    const gen = await runCli(['completion', 'fish']);
    assert.equal(gen.code, 0, gen.stderr);
    const file = join(dir, 'bootstrap.fish');
    writeFileSync(file, gen.stdout);
    const lines = [
      'bootstrap ',
      'bootstrap keys ',
      'bootstrap plan web1 --lay',
      'bootstrap plan web1 --layout ',
      'bootstrap new-host web1 --build-on ',
      'bootstrap backup setup web1 --secrets ',
      `bootstrap status --flake ${flake} `,
      'bootstrap keys ensure --',
    ];
    const script = [`source ${file}`, ...lines.map((l) => `complete -C '${l}'; echo '@@'`)].join('\n');
    const r = spawnSync('fish', ['--no-config', '-c', script], { env: shellEnv(dir, bin), encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const blocks = r.stdout.split('@@\n').map((b) => b.split('\n').filter(Boolean).map((l) => l.split('\t')));
    const words = (i: number) => blocks[i]!.map(([w]) => w!).sort();
    assert.ok(['new-host', 'plan', 'keys', 'completion'].every((c) => words(0).includes(c)), words(0).join(' '));
    assert.match(blocks[0]!.find(([w]) => w === 'new-host')![1] ?? '', /wizard/, 'with the summary as description');
    assert.deepEqual(words(1), ['ensure', 'import', 'show']);
    assert.deepEqual(words(2), ['--layout']);
    assert.ok(words(3).includes('luks-btrfs') && words(3).includes('mdadm-raid1'), words(3).join(' '));
    assert.deepEqual(words(4), ['auto', 'local', 'remote']);
    assert.deepEqual(words(5), ['agenix', 'none', 'sops']);
    assert.deepEqual(words(6), ['db1', 'web1'], 'hosts with a manifest, not hosts/draft');
    assert.deepEqual(words(7), longFlags('keys ensure'));
  });
});

test('zsh: the generated script, sourced by an interactive zsh in a real terminal, completes on TAB', { skip: spawnSync('zsh', ['--version']).status === 0 && spawnSync('tmux', ['-V']).status === 0 ? false : 'zsh or tmux is not installed (apt-get install zsh tmux)' }, async () => {
  await withTempDir(async (dir) => {
    const flake = makeFlake(dir);
    const bin = makeBin(dir);
    const gen = await runCli(['completion', 'zsh']);
    assert.equal(gen.code, 0, gen.stderr);
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(dir, 'bootstrap.zsh'), gen.stdout);
    // As the install line says: sourced from ~/.zshrc (compinit and bashcompinit come with it).
    writeFileSync(join(home, '.zshrc'), `PS1='%% '\nsource ${join(dir, 'bootstrap.zsh')}\n`);
    const env = shellEnv(dir, bin);
    const name = `nb-zsh-${process.pid}`;
    const envArgs = Object.entries({ ...env, TERM: 'xterm-256color' }).map(([k, v]) => `${k}=${v}`);
    execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', '200', '-y', '50', 'env', '-i', ...envArgs, 'zsh', '-i']);
    const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', name], { encoding: 'utf8' });
    // Types `line` and TAB on a cleared line, then waits (bounded) until the screen shows `want`.
    const complete = async (line: string, want: RegExp) => {
      execFileSync('tmux', ['send-keys', '-t', name, 'C-u', 'C-l']);
      execFileSync('tmux', ['send-keys', '-t', name, '-l', line]);
      execFileSync('tmux', ['send-keys', '-t', name, 'Tab']);
      for (let i = 0; i < 100 && !want.test(screen()); i++) await sleep(100);
      assert.match(screen(), want, `after "${line}" TAB`);
    };
    try {
      for (let i = 0; i < 50 && !/^% /m.test(screen()); i++) await sleep(100);
      await complete('bootstrap ke', /^% bootstrap keys *$/m);
      await complete('bootstrap keys ', /ensure\s+import\s+show/);
      await complete('bootstrap new-host web1 --build-on r', /^% bootstrap new-host web1 --build-on remote *$/m);
      await complete(`bootstrap status --flake ${flake} `, /db1\s+web1/);
      assert.doesNotMatch(screen(), /draft/, 'hosts with a manifest only');
    } finally {
      try {
        execFileSync('tmux', ['kill-session', '-t', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  });
});

test('completion: an unknown shell is bad input (exit 2) with the accepted ones as hint', async () => {
  const r = await runCli(['completion', 'tcsh']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown shell "tcsh"/);
  assert.match(r.stderr, /bash, zsh, fish/);
});

/**
 * Entry point: argv → command. The one place that wires the default ports and the one place that
 * chooses an exit code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs } from './cli/args.js';
import { COMMANDS, commandsInGroup, findCommand } from './cli/commands.js';
import { commandHelp, groupHelp, topLevelHelp } from './cli/help.js';
import { createPrompter } from './ports/prompter.js';
import { exitCodeFor, renderError, renderErrorJson, wantsJson } from './cli/render-error.js';
import { colorWanted, Output } from './ports/output.js';
import { systemClock, type AppContext } from './context.js';
import { usageError } from './errors.js';
import { runCommand } from './exec/run.js';
import { PACKAGE_ROOT } from './package-files.js';

function version(): string {
  try {
    return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

function closest(word: string, names: string[]): string | undefined {
  const score = (a: string, b: string) => {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  const best = names.map((n) => ({ n, s: score(word, n) })).sort((x, y) => x.s - y.s)[0];
  return best && best.s <= 2 ? best.n : undefined;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const debug = argv.includes('--debug');
  const noColor = argv.includes('--no-color');
  const stderrWriter = { write: (t: string) => void process.stderr.write(t), isTTY: process.stderr.isTTY };
  const out = new Output(
    { write: (t) => void process.stdout.write(t), isTTY: process.stdout.isTTY },
    stderrWriter,
    { color: colorWanted(env, noColor, stderrWriter), debug },
  );

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // second Ctrl-C: the user means it
    out.warn(`${sig} received: stopping after cleanup (press Ctrl-C again to force)`);
    controller.abort(usageError('interrupted', `interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Known once the command's flags parse (its own --json); until then a raw `--json` decides.
  let json: boolean | undefined;

  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      out.data(topLevelHelp(COMMANDS, version()));
      return 0;
    }
    if (argv[0] === '--version' || argv[0] === '-V') {
      const { versionReport } = await import('./cli/version.js');
      out.data(await versionReport(version(), env, runCommand));
      return 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = commandsInGroup(argv[0]!);
      if (group.length) {
        if (argv.includes('--help') || argv.includes('-h') || argv.length === 1) {
          out.data(groupHelp(argv[0]!, group));
          return argv.length === 1 ? 2 : 0;
        }
        throw usageError('unknown-command', `unknown subcommand "${argv[0]} ${argv[1]}"`, `one of: ${group.map((c) => c.name).join(', ')}`);
      }
      const guess = closest(argv[0]!, [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!))]);
      throw usageError('unknown-command', `unknown command "${argv[0]}"`, guess ? `did you mean \`bootstrap ${guess}\`? See \`bootstrap --help\`` : 'see `bootstrap --help`');
    }
    const { spec, rest } = found;
    const args = parseCommandArgs(spec.name, rest, spec.options, spec.positionals.length);
    json = args.bool('json');
    if (args.bool('help')) {
      out.data(commandHelp(spec));
      return 0;
    }
    const ctx: AppContext = {
      out,
      run: runCommand,
      prompts: createPrompter(process.stdin.isTTY === true && process.stderr.isTTY === true && env.CI !== 'true'),
      clock: systemClock,
      env,
      cwd: process.cwd(),
      signal: controller.signal,
    };
    const mod = await spec.load();
    return (await mod.run(ctx, args)) ?? 0;
  } catch (e) {
    const err = controller.signal.aborted && !(e instanceof Error && 'code' in e) ? controller.signal.reason : e;
    if (wantsJson(argv, json)) renderErrorJson(out, err, debug);
    else renderError(out, err, debug);
    return exitCodeFor(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

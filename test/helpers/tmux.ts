/**
 * A real terminal for tests: the CLI runs in a detached tmux session; `type` sends keys,
 * `screen` reads the pane, `waitFor` polls (bounded) for text. The command line ends by printing
 * EXIT=<code>, so `exitCode()` can read how the CLI ended. Always `kill()` in finally.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './cli.js';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface TmuxCli {
  name: string;
  type(...keys: string[]): void;
  /** The pane with its scroll-back, blank lines dropped. */
  screen(): string;
  waitFor(re: RegExp, what?: string, tries?: number): Promise<string>;
  /** Type `text` and Enter once `prompt` is on screen (keys typed before a prompt is drawn are lost). */
  answer(prompt: RegExp, text: string): Promise<void>;
  exitCode(): Promise<number>;
  kill(): void;
}

export function startTmuxCli(name: string, args: string[], env: Record<string, string>): TmuxCli {
  const envs = Object.entries(env).map(([k, v]) => `${k}=${q(v)}`).join(' ');
  // A Ctrl-C during a run reaches the whole foreground group: the shell traps it (a handler, not
  // an ignore, so the CLI does not inherit it) to live on and print EXIT.
  // CI=true (set by CI runners and inherited by the tmux server) means "never prompt" to the CLI;
  // this pane is a person's terminal, so it is unset.
  const cmd = `trap 'true' INT; cd ${q(REPO_ROOT)} && env -u CI ${envs} ${q(process.execPath)} --import tsx src/bin.ts ${args.map(q).join(' ')}; echo EXIT=$?; sleep 120`;
  // remain-on-exit: should the shell die, the pane (and the server) stays, so the failure shows
  // the screen and tmux's "Pane is dead (status …)" instead of "no server running".
  execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', '200', '-y', '50', cmd, ';', 'set-option', '-t', name, 'remain-on-exit', 'on']);
  const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-J', '-S', '-500', '-t', name], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '').join('\n');
  const waitFor = async (re: RegExp, what = String(re), tries = 300) => {
    for (let i = 0; i < tries; i++) {
      const s = screen();
      if (re.test(s)) return s;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}; the screen:\n${screen()}`);
  };
  return {
    name,
    type: (...keys) => void execFileSync('tmux', ['send-keys', '-t', name, ...keys]),
    screen,
    waitFor,
    async answer(prompt, text) {
      await waitFor(prompt);
      await sleep(150); // the prompt is drawn before it listens
      if (text) execFileSync('tmux', ['send-keys', '-t', name, '-l', text]);
      execFileSync('tmux', ['send-keys', '-t', name, 'Enter']);
    },
    async exitCode() {
      const m = /EXIT=(\d+)/.exec(await waitFor(/EXIT=\d+/, 'the CLI to exit', 600));
      return Number(m![1]);
    },
    kill: () => {
      try {
        execFileSync('tmux', ['kill-session', '-t', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    },
  };
}

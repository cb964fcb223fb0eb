import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { LINUX_GUARD, parseProbeResult } from './run-probe.js';
import { parseTarget } from '../ssh/target.js';

const t = parseTarget('root@203.0.113.7');

test('the Linux guard stops a non-Linux sh before the script and is recognised', () => {
  // Run the guard for real under sh with a PATH whose uname says FreeBSD.
  const r = (() => {
    try {
      execFileSync('sh', ['-c', 'uname() { echo FreeBSD; }; eval "$GUARD"; echo script-ran'], { env: { GUARD: LINUX_GUARD, PATH: process.env.PATH }, encoding: 'utf8', stdio: 'pipe' });
      return { code: 0, stderr: '' };
    } catch (e) {
      const err = e as { status: number; stderr: string; stdout: string };
      assert.doesNotMatch(err.stdout, /script-ran/);
      return { code: err.status, stderr: err.stderr };
    }
  })();
  assert.throws(() => parseProbeResult(t, { stdout: '', stderr: r.stderr, code: r.code, signal: null }), (e: any) =>
    e.code === 'not-linux' && e.message === 'root@203.0.113.7 runs FreeBSD, not Linux' && e.kind === 'failure');
  // On Linux the guard is silent and the script goes on.
  assert.equal(execFileSync('sh', ['-c', `${LINUX_GUARD}echo script-ran`], { encoding: 'utf8' }), 'script-ran\n');
});

test('a script that cannot run, or is killed, is a failure with the stderr tail', () => {
  assert.throws(() => parseProbeResult(t, { stdout: '', stderr: 'bash: sh: command not found\n', code: 127, signal: null }),
    (e: any) => e.code === 'probe-failed' && /exited with 127: bash: sh: command not found/.test(e.message) && /no POSIX sh/.test(e.hint));
  assert.throws(() => parseProbeResult(t, { stdout: '@@nb-probe v1\n', stderr: '', code: null, signal: 'KILL' }),
    (e: any) => e.code === 'probe-failed' && /was stopped by KILL/.test(e.message));
});

test('output that is not the probe\'s is a failure from the parser, not a crash', () => {
  assert.throws(() => parseProbeResult(t, { stdout: 'This account is currently not available.\n', stderr: '', code: 0, signal: null }),
    (e: any) => e.name === 'BootstrapError' && e.kind === 'failure');
});

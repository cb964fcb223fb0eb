/**
 * runHealthReport over a connection the caller already holds (a no-change deploy reports over the
 * one it read the host on): the health script and the declared checks run on it, it is left open
 * for the caller, and a connection that could not be opened is a report with an error, not a throw.
 * The session is an in-memory stand-in answering with the fixture's script output (no sshd here;
 * the deploy lab runs the real thing, test/deploy/deploy.integration.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPrompter } from '../../src/ports/prompter.js';
import { failure } from '../../src/errors.js';
import { runHealthReport, type HealthTarget } from '../../src/health/collect.js';
import { listDeclaredChecks } from '../../src/health/declared.js';
import type { SshSession } from '../../src/ssh/session.js';
import { parseTarget } from '../../src/ssh/target.js';
import type { HostKeyPolicy } from '../../src/ssh/host-key-policy.js';
import { captureCtx } from '../storage/capture.js';
import { expectFor, HEALTHY } from './fixtures.js';

const target = parseTarget('root@203.0.113.7');
const t: HealthTarget = {
  host: 'web1', target, ssh: { hostKeys: {} as HostKeyPolicy }, expectations: expectFor(), pinLabel: '.bootstrap/known_hosts',
  declared: listDeclaredChecks({ units: ['app.service'], ports: [], urls: [], commands: [], timeout: 5 }),
};
const ports = () => ({ ...captureCtx(), prompts: createPrompter(false), env: {} });

function standIn(): SshSession & { execs: string[]; closed: boolean } {
  const s = {
    target, hostKey: { fingerprint: 'SHA256:test' } as SshSession['hostKey'], execs: [] as string[], closed: false,
    async exec(_command: string, opts: { stdin?: string | Buffer } = {}) {
      const stdin = String(opts.stdin ?? '');
      const declared = stdin.startsWith('f=$(mktemp)');
      s.execs.push(declared ? 'declared' : 'health');
      return { stdout: declared ? 'D\t0\t0\tactive\n' : HEALTHY, stderr: '', code: 0, signal: null };
    },
    close() { s.closed = true; },
  };
  return s;
}

test('a given connection: the script and the declared checks run on it, and it stays open', async () => {
  const s = standIn();
  const r = await runHealthReport(ports(), t, { session: s });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(s.execs, ['health', 'declared']);
  assert.equal(s.closed, false, 'the caller closes it');
  assert.equal(r.hostKey, 'SHA256:test');
  assert.ok(r.checks.some((c) => c.id === 'declared.unit:app.service' && c.status === 'ok'));
  // Given as a promise (a new connection being opened): the same.
  const p = standIn();
  assert.equal((await runHealthReport(ports(), t, { session: Promise.resolve(p) })).error, undefined);
  assert.equal(p.closed, false);
});

test('a connection that could not be opened is a failed report naming why', async () => {
  const r = await runHealthReport(ports(), t, { session: Promise.reject(failure('unreachable', 'no route to 203.0.113.7')) });
  assert.equal(r.status, 'fail');
  assert.deepEqual([r.error?.code, r.error?.message], ['unreachable', 'no route to 203.0.113.7']);
});

/**
 * Deploy's lock-out guard runs before the build (host.ts runDeployGuard): on every run that will
 * reach the switch, --resume and --from included, and not on a run resumed after the switch. The
 * evaluation goes through the injected runner (the FAKE answer is what ACCESS_APPLY prints).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withTempDir } from '../../../test/helpers/tmp.js';
import { systemClock, type AppContext } from '../../context.js';
import { Output } from '../../ports/output.js';
import { createPrompter } from '../../ports/prompter.js';
import { appendJournal } from '../journal.js';
import { runDeployGuard } from './host.js';
import { buildDeployJournal } from './state.js';
import type { DeployCtx } from './steps.js';

/** ACCESS_APPLY's output for a host whose sshd is off. */
const SSHD_OFF = JSON.stringify({
  login: { users: {}, permitRootLogin: 'prohibit-password', allowUsers: null, sudo: true, wheelNeedsPassword: true, nopasswd: [] },
  sshd: { enable: false, ports: [22], openFirewall: true, permitRootLogin: null, listenAddresses: [] },
  firewall: { enable: true, allowedTCPPorts: [], allowedTCPPortRanges: [], trustedInterfaces: [], interfaces: {} },
  tailscale: { enable: false, authKeyFile: null, interfaceName: 'tailscale0' },
});

function ctx(dir: string, o: { resume?: boolean; allowLockout?: boolean } = {}) {
  const calls: string[][] = [];
  const w = { write: () => undefined };
  const app = {
    out: new Output(w, w, { color: false }), prompts: createPrompter(false), clock: systemClock, env: {}, cwd: dir, signal: new AbortController().signal,
    run: async (argv: string[]) => {
      calls.push(argv);
      return { argv, stdout: SSHD_OFF, stderr: '', code: 0, signal: null, durationMs: 0 };
    },
  } as unknown as AppContext;
  const c = {
    app, host: 'web1', flakeDir: dir,
    health: { target: { user: 'root', host: '192.0.2.10', port: 22 }, ssh: { hostKeys: { pinFile: join(dir, 'kh') } } },
    opts: { buildOn: 'local', confirmTimeout: 90, resume: o.resume ?? false, allowLockout: o.allowLockout ?? false, hostFile: 'hosts/web1/default.nix' },
  } as unknown as Pick<DeployCtx, 'app' | 'host' | 'flakeDir' | 'health' | 'opts'>;
  return { c, calls };
}

test('the guard evaluates first and refuses; --resume and --from before the switch run it again; after the switch it is not asked', async () => {
  await withTempDir(async (dir) => {
    const journal = buildDeployJournal(dir, 'web1', '.bootstrap');
    const fresh = ctx(dir);
    await assert.rejects(runDeployGuard(fresh.c, journal), (e: Error & { code: string }) => e.code === 'lockout' && /sshd is disabled/.test(e.message));
    assert.equal(fresh.calls.length, 1, 'one evaluation');
    assert.ok(fresh.calls[0]!.includes('eval') && !fresh.calls[0]!.includes('build'), 'an evaluation, no build');
    // An earlier run built and copied, then stopped: resumed at the switch, the flake is judged again.
    const at = new Date().toISOString();
    for (const stepId of ['build', 'copy']) await appendJournal(journal, { runId: 'r1', stepId, status: 'done', startedAt: at, endedAt: at });
    await assert.rejects(runDeployGuard(ctx(dir, { resume: true }).c, journal), (e: Error & { code: string }) => e.code === 'lockout');
    await assert.rejects(runDeployGuard(ctx(dir).c, journal, 'copy'), (e: Error & { code: string }) => e.code === 'lockout');
    // --allow-lockout: the override, for the switch step's journal entry.
    assert.match((await runDeployGuard(ctx(dir, { allowLockout: true }).c, journal)) ?? '', /^--allow-lockout: sshd-disabled: /);
    // The switch is done: a resumed run only checks and confirms, so it is not asked.
    await appendJournal(journal, { runId: 'r1', stepId: 'switch', status: 'done', startedAt: at, endedAt: at });
    const after = ctx(dir, { resume: true });
    assert.equal(await runDeployGuard(after.c, journal), undefined);
    assert.deepEqual(after.calls, []);
  });
});

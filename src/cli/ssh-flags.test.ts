import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs } from './args.js';
import { createPrompter } from '../ports/prompter.js';
import { Output } from '../ports/output.js';
import { SSH_OPTIONS } from './commands/probe.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../exec/run.js';
import { resolveSshArgs } from './ssh-flags.js';
import { parseTimeoutSeconds } from '../ssh/ssh-choices.js';

test('--timeout: seconds, fractions allowed, default 10 s', () => {
  assert.equal(parseTimeoutSeconds(undefined), 10_000);
  assert.equal(parseTimeoutSeconds('30'), 30_000);
  assert.equal(parseTimeoutSeconds('0.5'), 500);
  for (const bad of ['0', '-1', 'soon', '1e3', '3601', '']) assert.throws(() => parseTimeoutSeconds(bad), { code: 'bad-flag', kind: 'usage' });
});

test('resolveSshArgs: target, identity resolved against cwd, flake pins, timeout', async () => {
  // A HOME without an ssh config: `ssh -G` resolves nothing here.
  const home = mkdtempSync(join(tmpdir(), 'nb-sshflags-'));
  const ctx = { out: new Output({ write() {} }, { write() {} }, { color: false }), prompts: createPrompter(false), env: { HOME: home, PATH: process.env.PATH }, cwd: '/work/flake', run: runCommand };
  const args = parseCommandArgs('probe', ['root@[2001:db8::1]:2222', '-i', 'keys/id', '--timeout', '3', '--flake', 'sub'], SSH_OPTIONS.concat([{ name: 'flake', type: 'string', description: '' }]), 1);
  const { target, ssh } = await resolveSshArgs(ctx, args, args.positional(0, 'TARGET'));
  assert.deepEqual({ ...target }, { user: 'root', host: '2001:db8::1', port: 2222, identityFile: '/work/flake/keys/id' });
  assert.equal(ssh.identityFile, '/work/flake/keys/id');
  assert.equal(ssh.timeoutMs, 3000);
  assert.equal(ssh.hostKeys.pinFile, '/work/flake/sub/.bootstrap/known_hosts');
  const bad = parseCommandArgs('probe', ['h', '--password-env', 'not a name'], SSH_OPTIONS, 1);
  await assert.rejects(resolveSshArgs(ctx, bad, 'h'), { code: 'bad-flag' });
});

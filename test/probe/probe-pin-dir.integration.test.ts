/** Where `bootstrap probe` pins a trusted key when it is not run inside a flake. */
import '../helpers/fake-nix-path.js';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startSshd } from '../helpers/sshd.js';
import { withTempDir } from '../helpers/tmp.js';

test('outside a flake, probe pins into $XDG_STATE_HOME/nixos-bootstrap and leaves the current directory alone', async () => {
  const sshd = await startSshd();
  try {
    await withTempDir(async (dir) => {
      const cwd = join(dir, 'somewhere');
      mkdirSync(cwd);
      const state = join(dir, 'state');
      const r = await runCli(['probe', sshd.target, '-i', sshd.clientKeyPath, '--accept-new-host-key', '--json'], { cwd, env: { XDG_STATE_HOME: state } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readdirSync(cwd), [], 'nothing written where the command ran');
      const pins = readFileSync(join(state, 'nixos-bootstrap/.bootstrap/known_hosts'), 'utf8');
      assert.match(pins, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `, 'm'));
      // Trusted now: the next probe needs no flag.
      const again = await runCli(['probe', sshd.target, '-i', sshd.clientKeyPath, '--json'], { cwd, env: { XDG_STATE_HOME: state } });
      assert.equal(again.code, 0, again.stderr);
      assert.ok(!existsSync(join(cwd, '.bootstrap')));
    });
  } finally {
    await sshd.stop();
  }
});

/**
 * Without nixos-anywhere on PATH, bootstrap runs the pinned revision through `nix run` (issue 20).
 * The command locateNixosAnywhere builds is run as is against the FAKE nix (test/fakes/nix), whose
 * `run` knows only the revision whose source is in ../shared/nix-src and runs that real
 * nixos-anywhere.sh; an unpinned reference is refused there, as a machine without it could not
 * fetch it either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/exec/run.js';
import { locateNixosAnywhere } from '../../src/nix/nixos-anywhere.js';
import { NIXOS_ANYWHERE_PIN } from '../../src/nix/pinned-installer.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { REAL_NIXOS_ANYWHERE } from '../helpers/real-nixos-anywhere.js';
import { withTempDir } from '../helpers/tmp.js';

test('no nixos-anywhere on PATH: the nix run command of the pinned revision runs the real script; an unpinned one is refused', { skip: existsSync(REAL_NIXOS_ANYWHERE) ? false : `${REAL_NIXOS_ANYWHERE} is missing` }, async () => {
  await withTempDir(async (dir) => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(join(REPO_ROOT, 'test/fakes/nix'), join(bin, 'nix'));
    const env = { PATH: `${bin}:/usr/bin:/bin`, NB_NIXOS_ANYWHERE_SH: REAL_NIXOS_ANYWHERE };
    const cmd = locateNixosAnywhere(env);
    assert.equal(cmd.via, 'nix-run');
    assert.ok(cmd.prefix.includes(`github:nix-community/nixos-anywhere/${NIXOS_ANYWHERE_PIN.rev}`), cmd.prefix.join(' '));
    const help = await runCommand([...cmd.prefix, '--help'], { env, check: false, timeoutMs: 30_000 });
    assert.match(help.stdout + help.stderr, /^Usage: nixos-anywhere \[options\] \[<ssh-host>\]/);

    const unpinned = cmd.prefix.map((a) => (a.startsWith('github:') ? 'github:nix-community/nixos-anywhere' : a));
    const refused = await runCommand([...unpinned, '--help'], { env, check: false, timeoutMs: 30_000 });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot fetch github:nix-community\/nixos-anywhere:/);
  });
});

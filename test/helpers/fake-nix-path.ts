/**
 * Imported for its effect: the FAKE nix (test/fakes/nix) goes first on this test process's PATH,
 * so CLI runs that evaluate the flake (`plan`'s and new-host's check that flake.nix picks up the
 * host) are answered by it. Debian's real nix would copy each test flake into /nix/store (it runs
 * as root without a dummy store) and try to fetch its inputs. Removed when the process exits.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const FAKE_NIX_BIN = mkdtempSync(join(tmpdir(), 'nb-fake-nix-'));
symlinkSync(join(REPO_ROOT, 'test/fakes/nix'), join(FAKE_NIX_BIN, 'nix'));
process.env.PATH = `${FAKE_NIX_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`;
process.on('exit', () => rmSync(FAKE_NIX_BIN, { recursive: true, force: true }));

import { test } from 'node:test';
import { CommandFailed } from '../exec/run.js';
import { explainKexecFailure, PhaseFailed } from './run-phases.js';
import assert from 'node:assert/strict';
import { isBootstrapError } from '../errors.js';
import { buildTimeoutHint, describeWait, formatDuration, parsePhaseTimeouts, phaseOfStep } from './installer-session.js';

const w = { user: 'nixos', host: '203.0.113.7', port: 2222, postKexecPort: 22 };

test('the real script step lines map to their phases', () => {
  assert.equal(phaseOfStep('Uploading install SSH keys'), undefined);
  assert.equal(phaseOfStep('Gathering machine facts'), undefined);
  assert.equal(phaseOfStep('Switching system into kexec'), 'kexec');
  assert.equal(phaseOfStep('Uploading /run/user/0/nb-install-x/disk-encryption.key to /tmp/secret.key'), 'disko');
  assert.equal(phaseOfStep('Formatting hard drive with disko'), 'disko');
  assert.equal(phaseOfStep('Uploading the system closure'), 'install');
  assert.equal(phaseOfStep('Copying extra files'), 'install');
  assert.equal(phaseOfStep('Installing NixOS'), 'install');
  assert.equal(phaseOfStep('Rebooting'), 'reboot');
  assert.equal(phaseOfStep('Waiting for the machine to become unreachable due to reboot'), 'reboot');
  assert.equal(phaseOfStep('Done!'), 'done');
});

test('the progress line says what the script waits for; the timeout hint names the likely cause', () => {
  assert.equal(describeWait(undefined, w), 'logging in to nixos@203.0.113.7 on port 2222');
  assert.equal(describeWait('Switching system into kexec', w), 'booting the installer; waiting for SSH on 203.0.113.7:22 after kexec');
  assert.match(buildTimeoutHint('kexec', 'Uploading install SSH keys', w), /login as nixos on port 2222.*--password-env.*--phase-timeout kexec=DURATION/);
  assert.match(buildTimeoutHint('kexec', 'Switching system into kexec', w), /port 22 after kexec.*--post-kexec-port/);
  assert.match(buildTimeoutHint('reboot', 'Waiting for the machine to become unreachable due to reboot', w), /did not go down/);
});

test('phase timeouts: durations in s, m, h; an unknown phase or a bad duration is a usage error', () => {
  assert.deepEqual(parsePhaseTimeouts({ kexec: '20m', install: '2h', disko: 900 }), { kexec: 1_200_000, install: 7_200_000, disko: 900_000 });
  const bads: Record<string, string>[] = [{ kexex: '1m' }, { install: '0' }, { install: 'soon' }, { install: '100h' }];
  for (const bad of bads) {
    assert.throws(() => parsePhaseTimeouts(bad), (e) => isBootstrapError(e) && e.kind === 'usage' && e.code === 'bad-phase-timeout');
  }
  assert.equal(formatDuration(90_000), '90 s');
  assert.equal(formatDuration(15 * 60_000), '15 min');
});

test('a kexec phase that failed on the image says how to give it another way, or that a changed image was refused', () => {
  const result = (stdout: string, stderr = 'Kexec may have failed - check output above') => ({ argv: ['nixos-anywhere'], code: 1, signal: null, stdout, stderr, durationMs: 1 });
  const firewalled = "Downloading kexec tarball, this may take a moment...\ncurl: (7) Failed to connect to github.com port 443 after 3 ms: Couldn't connect to server\ngzip: stdin: unexpected end of file";
  const e = new PhaseFailed(new CommandFailed(result(firewalled)), 'kexec', 'Switching system into kexec', '/run/x/installer.log');
  assert.match(e.hint ?? '', /^the target could not download the kexec image .*--kexec-image FILE --kexec-sha256 HEX \(uploaded from here\), --kexec-url URL --kexec-sha256 HEX or --kexec-from cache --kexec-sha256 HEX; read the full output in \/run\/x\/installer\.log/);
  assert.match(explainKexecFailure('wget: unable to resolve host address ‘github.com’') ?? '', /could not download/);
  const refused = `nixos-bootstrap: the kexec image /root/.nixos-bootstrap-kexec/${'a'.repeat(64)}.tar.gz has sha256 ${'b'.repeat(64)}, not the pinned ${'a'.repeat(64)}; nothing was booted`;
  assert.match(explainKexecFailure(refused) ?? '', /changed after preflight checked it and was refused before booting; run again with --resume/);
  // Another phase, or another cause: the plain hint.
  assert.equal(new PhaseFailed(new CommandFailed(result(firewalled)), 'install', undefined, '/l').hint, 'read the full output in /l; fix the cause, then run again with --resume to continue at this phase');
  assert.equal(explainKexecFailure('Failed to retrieve fact isArch from host'), undefined);
});

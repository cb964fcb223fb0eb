/**
 * The scripts deploy runs on a host, run here for real under sh against a scratch generation layout
 * with FAKE systemctl/systemd-run/nix-env on PATH that only record their calls: what is quoted,
 * what is refused, and in which order the timer, the switch and the boot default happen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildArmScript, buildConfirmScript, buildRemoteCommand, buildRollbackUnit, buildRollbackNowScript, CONFIRM_ROLLED_BACK, parseDryActivate, parseKeyLines,
} from './remote.js';
import { buildCopyArgv, buildNixSshOpts, buildToplevelArgv, parseToplevelJson } from './nix.js';
import { parseTarget } from '../../ssh/target.js';
import { buildDeployExitCode, runCanaries } from './index.js';
import { DEPLOY_STEPS, isUnchanged } from './steps.js';
import { DEPLOY_STEP_IDS } from './step-ids.js';

test('unit names, remote command and refusals of what is not a store path', () => {
  assert.match(buildRollbackUnit('2026-12-07T17-00-00-000Z-a1b2c3'), /^bootstrap-rollback-[a-z0-9-]+a1b2c3$/);
  assert.equal(buildRemoteCommand('root'), 'sh -s');
  assert.equal(buildRemoteCommand('admin'), 'sudo -n sh -s');
  assert.throws(() => buildArmScript('bootstrap-rollback-x', "/nix/store/a'; rm -rf /", 90), /not a store path/);
  assert.throws(() => buildArmScript('evil; reboot', '/nix/store/a', 90), /bad unit name/);
  assert.match(buildArmScript('bootstrap-rollback-x', '/nix/store/aaa-nixos-system', 90), /systemd-run --unit='bootstrap-rollback-x' .*--on-active=90s .*\/bin\/sh -c ''\\''\/nix\/store\/aaa-nixos-system'\\''\/bin\/switch-to-configuration switch; systemctl restart sshd.service'/);
  assert.deepEqual(parseKeyLines('current=/a\nprofile=/b\njunk\n'), { current: '/a', profile: '/b' });
  assert.deepEqual(parseDryActivate('would stop the following units: a.service\nwould restart the following units: sshd.service, app.service\n'), { stop: ['a.service'], restart: ['sshd.service', 'app.service'], start: [], reload: [] });
});

test('nix argv: the toplevel, the copy with substitution on the host, NIX_SSHOPTS (port, batch mode, key; the pins are the guard\'s)', () => {
  const t = parseTarget('root@203.0.113.7:2222', { identityFile: '/k/id' });
  assert.deepEqual(buildToplevelArgv('/f', 'web1'), ['nix', '--extra-experimental-features', 'nix-command flakes', 'build', '--no-link', '--json', '/f#nixosConfigurations."web1".config.system.build.toplevel']);
  assert.deepEqual(buildToplevelArgv('/f', 'web1', t).slice(6, 10), ['--eval-store', 'auto', '--store', 'ssh-ng://root@203.0.113.7']);
  assert.deepEqual(buildCopyArgv(t, '/nix/store/x'), ['nix', '--extra-experimental-features', 'nix-command flakes', 'copy', '--substitute-on-destination', '--to', 'ssh-ng://root@203.0.113.7', '/nix/store/x']);
  assert.equal(buildNixSshOpts(t), '-p 2222 -o BatchMode=yes -i /k/id -o IdentitiesOnly=yes');
  assert.throws(() => buildNixSshOpts(parseTarget('root@203.0.113.7', { identityFile: '/my keys/id' })), /splits NIX_SSHOPTS on spaces/);
  assert.equal(parseToplevelJson('[{"drvPath":"/nix/store/d.drv","outputs":{"out":"/nix/store/o-sys"}}]'), '/nix/store/o-sys');
  assert.throws(() => parseToplevelJson('[]'), /did not report/);
});

/** A scratch host: /run/current-system and the profile under `root`, shims logging to calls.log. */
function scratch() {
  const root = mkdtempSync(join(tmpdir(), 'nb-deploy-remote-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  const log = join(root, 'calls.log');
  for (const tool of ['systemctl', 'systemd-run', 'nix-env']) {
    // FAKE: records its argv; `systemctl is-active` answers from $STATE_<unit> files.
    writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >>${log}\n[ "$1" = is-active ] && { [ -e "${root}/active-$3" ]; exit $?; }\nexit 0\n`, { mode: 0o755 });
  }
  const gen = (name: string) => {
    const d = join(root, name);
    mkdirSync(join(d, 'bin'), { recursive: true });
    writeFileSync(join(d, 'bin/switch-to-configuration'), `#!/bin/sh\necho "${name} switch-to-configuration $*" >>${log}\n[ "$1" = switch ] && ln -sfn ${d} ${root}/current\nexit 0\n`, { mode: 0o755 });
    return d;
  };
  const old = gen('old');
  const next = gen('next');
  symlinkSync(old, join(root, 'current'));
  const run = (script: string) => {
    // The scripts name /run/current-system; here it is the scratch link.
    const text = script.replaceAll('/run/current-system', join(root, 'current'));
    try {
      return { code: 0, out: execFileSync('sh', ['-s'], { input: text, encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } }) };
    } catch (e) {
      const err = e as { status: number; stdout: string };
      return { code: err.status, out: err.stdout };
    }
  };
  const calls = () => readFileSync(log, 'utf8').trim().split('\n');
  return { root, old, next, run, calls, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('confirm: the timer is stopped first; the boot default moves only while the host still runs the new system', () => {
  const s = scratch();
  try {
    const unit = 'bootstrap-rollback-t1';
    symlinkSync(s.next, join(s.root, 'current.tmp'));
    execFileSync('mv', ['-T', join(s.root, 'current.tmp'), join(s.root, 'current')]);
    const ok = s.run(buildConfirmScript(unit, s.next));
    assert.equal(ok.code, 0, ok.out);
    assert.deepEqual(s.calls(), [
      `systemctl stop ${unit}.timer`,
      `systemctl is-active --quiet ${unit}.service`,
      `nix-env --profile /nix/var/nix/profiles/system --set ${s.next}`,
      `next switch-to-configuration boot`,
    ]);
    // The timer already rolled back: no boot default, the dedicated exit code.
    execFileSync('ln', ['-sfn', s.old, join(s.root, 'current')]);
    const late = s.run(buildConfirmScript(unit, s.next));
    assert.equal(late.code, CONFIRM_ROLLED_BACK);
    assert.equal(s.calls().filter((c) => c.startsWith('nix-env')).length, 1, 'no second profile switch');
    // The rollback service is running right now: also refused.
    execFileSync('ln', ['-sfn', s.next, join(s.root, 'current')]);
    writeFileSync(join(s.root, `active-${unit}.service`), '');
    assert.equal(s.run(buildConfirmScript(unit, s.next)).code, CONFIRM_ROLLED_BACK);
  } finally {
    s.done();
  }
});

test('rollback now: the timer is stopped and the previous system activated, once', () => {
  const s = scratch();
  try {
    const unit = 'bootstrap-rollback-t2';
    execFileSync('ln', ['-sfn', s.next, join(s.root, 'current')]);
    const r = s.run(buildRollbackNowScript(unit, s.old));
    assert.equal(r.code, 0);
    assert.equal(parseKeyLines(r.out).current, s.old);
    assert.deepEqual(s.calls(), [`systemctl stop ${unit}.timer`, `systemctl is-active --quiet ${unit}.service`, 'old switch-to-configuration switch', 'systemctl restart sshd.service']);
    const again = s.run(buildRollbackNowScript(unit, s.old));
    assert.equal(parseKeyLines(again.out).current, s.old);
    assert.equal(s.calls().filter((c) => c.includes('old switch-to-configuration')).length, 1, 'already on the previous system: not activated twice');
  } finally {
    s.done();
  }
});

test('exit codes and canaries: a rolled-back canary stops the rest; failures outrank rollbacks', async () => {
  assert.equal(buildDeployExitCode([{ status: 'deployed' }, { status: 'unchanged' }]), 0);
  assert.equal(buildDeployExitCode([{ status: 'deployed' }, { status: 'rolled-back' }, { status: 'skipped' }]), 4);
  assert.equal(buildDeployExitCode([{ status: 'rolled-back' }, { status: 'failed' }]), 1);
  const started: string[] = [];
  const work = async (h: string) => {
    started.push(h);
    return { host: h, status: h === 'a' ? 'rolled-back' : 'deployed' };
  };
  const skipped = (h: string) => ({ host: h, status: 'skipped' });
  assert.deepEqual(await runCanaries(['a', 'b', 'c'], 1, 2, work, skipped), [{ host: 'a', status: 'rolled-back' }, { host: 'b', status: 'skipped' }, { host: 'c', status: 'skipped' }]);
  assert.deepEqual(started, ['a']);
  started.length = 0;
  assert.deepEqual((await runCanaries(['b', 'a', 'c'], 1, 2, work, skipped)).map((r) => r.status), ['deployed', 'rolled-back', 'deployed'], 'after the canaries, one failure does not stop the others');
  assert.deepEqual((await runCanaries(['a', 'b'], 0, 1, work, skipped)).map((r) => r.status), ['rolled-back', 'deployed'], 'without --canary every host runs');
});

test('the steps --from and help name are the steps that run; "unchanged" needs the host to run AND boot the system', () => {
  assert.deepEqual(DEPLOY_STEPS.map((s) => s.id), [...DEPLOY_STEP_IDS]);
  assert.equal(isUnchanged({ current: '/nix/store/a', profile: '/nix/store/a' }, '/nix/store/a'), true);
  // Switched to but never confirmed (a killed run): the boot default is still the old one.
  assert.equal(isUnchanged({ current: '/nix/store/a', profile: '/nix/store/old' }, '/nix/store/a'), false);
  assert.equal(isUnchanged({ current: '/nix/store/old', profile: '/nix/store/a' }, '/nix/store/a'), false);
  assert.equal(isUnchanged({ profile: '/nix/store/a' }, '/nix/store/a'), false);
});

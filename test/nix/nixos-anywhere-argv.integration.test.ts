/**
 * Our installer argv, read by the REAL parser: parseArgs() cut out of the unmodified
 * nixos-anywhere.sh (../shared/nix-src) by test/helpers/real-parse-args.sh. What the script
 * understood must be what we meant: store paths, target, ports, phases, secrets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInstallerArgv, PHASES, type NixosAnywhereOptions } from '../../src/nix/nixos-anywhere.js';
import { parseTarget } from '../../src/ssh/target.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { REAL_NIXOS_ANYWHERE } from '../helpers/real-nixos-anywhere.js';

const skip = existsSync(REAL_NIXOS_ANYWHERE) ? false : `the real nixos-anywhere.sh is not at ${REAL_NIXOS_ANYWHERE}`;

function parse(argv: string[]): Record<string, string> {
  const out = execFileSync('bash', [join(REPO_ROOT, 'test/helpers/real-parse-args.sh'), REAL_NIXOS_ANYWHERE, ...argv.slice(1)], { encoding: 'utf8' });
  const r: Record<string, string> = {};
  for (const line of out.trim().split('\n')) {
    const eq = line.indexOf('=');
    const k = line.slice(0, eq);
    r[k] = r[k] === undefined ? line.slice(eq + 1) : `${r[k]};${line.slice(eq + 1)}`;
  }
  return r;
}

test('the real parser reads our argv as meant', { skip }, () => {
  const store = mkdtempSync(join(tmpdir(), 'nb-argv-'));
  try {
    const o: NixosAnywhereOptions = {
      flake: '/f', host: 'web1', target: parseTarget('root@203.0.113.7:2222', { identityFile: '/keys/id' }),
      storePaths: { disko: join(store, 'disko'), toplevel: join(store, 'sys') },
      postKexecPort: 2200, extraFilesDir: '/s/extra',
      copyHostKeys: true, envPassword: true, kexecImage: '/images/nixos-kexec-installer.tar.gz',
      diskEncryptionKeys: [{ remotePath: '/tmp/secret.key', localPath: '/s/luks' }, { remotePath: '/root/.config/nix/nix.conf', localPath: '/s/nix.conf' }],
    };
    const r = parse(buildInstallerArgv(['nixos-anywhere'], o, PHASES));
    assert.equal(r.flake, '');
    assert.equal(r.diskoScript, join(store, 'disko'));
    assert.equal(r.nixosSystem, join(store, 'sys'));
    assert.equal(r.sshConnection, 'root@203.0.113.7');
    assert.equal(r.sshArgs, '-p 2222');
    assert.equal(r.postKexecSshPort, '2200');
    assert.equal(r.extraFiles, '/s/extra');
    assert.equal(r.copyHostKeys, 'y');
    assert.equal(r.envPassword, 'y');
    assert.deepEqual(r.diskKey!.split(';').sort(), ['/root/.config/nix/nix.conf /s/nix.conf', '/tmp/secret.key /s/luks'], 'the installer nix.conf (issue 20) uploads like a disk key');
    assert.equal(r.kexecUrl, '/images/nixos-kexec-installer.tar.gz', 'a local image the script uploads');
    assert.equal(r.nixCopyOptions, '--substitute-on-destination', 'the target substitutes what its caches have (the script default, kept)');
    for (const p of PHASES) assert.equal(r[`phase.${p}`], '1', p);

    const resumed = parse(buildInstallerArgv(['nixos-anywhere'], { ...o, connectPort: 2200 }, ['install', 'reboot']));
    assert.equal(resumed.sshArgs, '-p 2200', 'after kexec the call starts on the installer port');
    assert.deepEqual([resumed['phase.kexec'], resumed['phase.disko'], resumed['phase.install'], resumed['phase.reboot']], ['0', '0', '1', '1']);
    assert.equal(resumed.diskKey, undefined);
    assert.equal(resumed.kexecUrl, '', 'no image without the kexec phase');

    // The script's own switch rewrites the value after -p: from port 22 too.
    const from22 = parse(buildInstallerArgv(['nixos-anywhere'], { ...o, target: parseTarget('root@203.0.113.7') }, PHASES));
    assert.equal(from22.sshArgs, '-p 22');
    assert.equal(from22.postKexecSshPort, '2200');

    const remote = parse(buildInstallerArgv(['nixos-anywhere'], { ...o, storePaths: undefined, buildOn: 'remote', noDiskoDeps: true }, PHASES));
    assert.equal(remote.flake, '/f');
    assert.equal(remote.flakeAttr, 'nixosConfigurations."web1".config');
    assert.equal(remote.buildOn, 'remote');
    assert.equal(remote.diskoAttr, 'diskoScriptNoDeps');
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSshConfigAnswer, buildStoredSshConfig, readManifestSshConfig, resolveStoredSshConfig } from './ssh-route.js';
import { buildManifestToml, parseManifest } from './manifest.js';

const flake = '/srv/alice/infra';
const home = '/home/alice';

test('--ssh-config is stored so another checkout or operator can use it: in the flake relative, under HOME as ~/…, else absolute', () => {
  assert.equal(buildStoredSshConfig('/srv/alice/infra/ssh/config', flake, home), 'ssh/config');
  assert.equal(buildStoredSshConfig('/home/alice/.ssh/bastion_config', flake, home), '~/.ssh/bastion_config');
  assert.equal(buildStoredSshConfig('/etc/ssh/fleet_config', flake, home), '/etc/ssh/fleet_config');
  // A sibling whose name starts like the flake is not inside it.
  assert.equal(buildStoredSshConfig('/srv/alice/infra2/config', flake, home), '/srv/alice/infra2/config');
  // A flake inside HOME: the flake wins (the file travels with the flake).
  assert.equal(buildStoredSshConfig('/home/alice/infra/ssh_config', '/home/alice/infra', home), 'ssh_config');
  assert.equal(buildStoredSshConfig('/home/alice/.ssh/c', flake, undefined), '/home/alice/.ssh/c');
});

test('the stored form is resolved against this checkout and this operator\'s HOME', () => {
  assert.equal(resolveStoredSshConfig('ssh/config', '/work/bob/infra', '/home/bob'), '/work/bob/infra/ssh/config');
  assert.equal(resolveStoredSshConfig('~/.ssh/bastion_config', '/work/bob/infra', '/home/bob'), '/home/bob/.ssh/bastion_config');
  assert.equal(resolveStoredSshConfig('/etc/ssh/fleet_config', '/work/bob/infra', '/home/bob'), '/etc/ssh/fleet_config');
  assert.throws(() => resolveStoredSshConfig('~/.ssh/c', flake, undefined), { code: 'bad-ssh-config', kind: 'usage' });
  for (const p of ['/srv/alice/infra/ssh/config', '/home/alice/.ssh/x', '/etc/ssh/y']) assert.equal(resolveStoredSshConfig(buildStoredSshConfig(p, flake, home), flake, home), p);
});

test('recorded only when --ssh-config was given (ssh\'s default config, or a test HOME\'s own, is no route to record)', () => {
  const target = { sshConfig: '/srv/alice/infra/ssh_config' };
  assert.deepEqual(buildSshConfigAnswer({ answers: { sshConfig: './ssh_config' }, target, flakeDir: flake, home }), { sshConfig: 'ssh_config' });
  assert.deepEqual(buildSshConfigAnswer({ answers: {}, target, flakeDir: flake, home }), {});
});

test('the manifest\'s [ssh] config round-trips, and a file missing on this machine is bad input naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-ssh-route-'));
  try {
    const text = buildManifestToml({
      version: 1, host: 'web1', target: 'admin@web1:2222', profile: 'generic-vm', layout: { name: 'single-ext4' },
      installDisk: { path: '/dev/vda', sizeBytes: 1 }, ssh: { config: 'ssh_config' },
    });
    assert.match(text, /\[ssh\]\nconfig = "ssh_config"/);
    const m = parseManifest(text, 'hosts/web1/bootstrap.toml');
    assert.equal(m.ssh?.config, 'ssh_config');
    assert.throws(() => readManifestSshConfig(m, dir, home, 'hosts/web1/bootstrap.toml'), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'bad-ssh-config');
      assert.match(e.message, /hosts\/web1\/bootstrap\.toml \[ssh\] config names ssh_config/);
      assert.match(e.hint ?? '', /--ssh-config FILE/);
      return true;
    });
    writeFileSync(join(dir, 'ssh_config'), 'Host web1\n  HostName 10.0.0.5\n');
    assert.equal(readManifestSshConfig(m, dir, home, 'x'), join(dir, 'ssh_config'));
    assert.equal(readManifestSshConfig({}, dir, home, 'x'), undefined);
    assert.throws(() => parseManifest(text.replace('[ssh]\n', '[ssh]\nproxy = "x"\n'), 'm'), /proxy/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `bootstrap plan --target`: the report comes from a live probe of this machine through a real
 * sshd on 127.0.0.1, and the target lands in the host manifest. This machine is a container
 * (no profile matches it), so the profile is forced, which is what a user would do too.
 */
import '../helpers/fake-nix-path.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runCli } from '../helpers/cli.js';
import { useSshdLab } from '../helpers/sshd.js';
import { parseManifest } from '../../src/manifest/manifest.js';

const lab = useSshdLab('nb-plan-target-');

test('plan --target probes over SSH and records the target in the manifest', async () => {
  const lsblk = JSON.parse(execFileSync('lsblk', ['-J', '-b', '-d', '-o', 'NAME,TYPE,RM,RO,TRAN'], { encoding: 'utf8' })) as { blockdevices: Array<{ name: string; type: string; rm: boolean | string; ro: boolean | string; tran: string | null }> };
  const disk = lsblk.blockdevices.find((d) => d.type === 'disk' && !d.name.startsWith('zram') && !['1', true].includes(d.rm) && !['1', true].includes(d.ro) && d.tran !== 'usb');
  assert.ok(disk, 'this machine has a disk to plan for');
  const r = await runCli(
    ['plan', 'web1', '--target', lab.sshd.target, '-i', lab.sshd.clientKeyPath, '--host-key', lab.sshd.fingerprint, '--profile', 'generic-kvm-vps', '--disk', disk.name, '--flake', lab.dir, '--json'],
    { env: { HOME: lab.dir, SSH_AUTH_SOCK: undefined } },
  );
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { profile: string; installDisk: { path: string }; files: Array<{ path: string; content: string }> };
  assert.equal(j.profile, 'generic-kvm-vps');
  assert.ok(j.installDisk.path.includes(disk.name) || j.installDisk.path.startsWith('/dev/disk/'), j.installDisk.path);
  const manifest = parseManifest(j.files.find((f) => f.path === 'hosts/web1/bootstrap.toml')!.content, 'bootstrap.toml');
  assert.equal(manifest.target, `root@127.0.0.1:${lab.sshd.port}`);
  assert.equal(manifest.profile, 'generic-kvm-vps');
});

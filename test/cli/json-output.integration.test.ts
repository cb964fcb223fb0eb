/**
 * `--json` for scripts (issue 11 item 9), through the real CLI: `new-host --dry-run --json` is one
 * JSON document built from the same data as the text (probed live over a real sshd on
 * 127.0.0.1), and an error under --json is `{"ok":false,"error":{code,message,hint}}` on stdout
 * with the same exit code, while stderr keeps the human message.
 */
import '../helpers/fake-nix-path.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { useSshdLab } from '../helpers/sshd.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';

const lab = useSshdLab('nb-json-', { setup: (dir) => writeFile(join(dir, 'flake.nix'), '{ outputs = { ... }: { }; }\n') });

function localDisk(): string {
  const lsblk = JSON.parse(execFileSync('lsblk', ['-J', '-b', '-d', '-o', 'NAME,TYPE,RM,RO,TRAN'], { encoding: 'utf8' })) as { blockdevices: Array<{ name: string; type: string; rm: boolean | string; ro: boolean | string; tran: string | null }> };
  const disk = lsblk.blockdevices.find((d) => d.type === 'disk' && !d.name.startsWith('zram') && !['1', true].includes(d.rm) && !['1', true].includes(d.ro) && d.tran !== 'usb');
  assert.ok(disk, 'this machine has a disk to plan for');
  return disk.name;
}

interface ErrorDoc { ok: false; error: { code: string; message: string; hint: string | null } }

test('new-host --dry-run --json prints one document: plan, wipe, steps, installer argv, time limits', async () => {
  const disk = localDisk();
  // .bootstrap/known_hosts pins the target's key at first contact (the probe); nothing else may appear.
  const flakeTree = () => snapshotTree(lab.dir).filter((e) => !e.path.startsWith('.bootstrap'));
  const before = flakeTree();
  const common = ['new-host', 'web1', '--target', lab.sshd.target, '-i', lab.sshd.clientKeyPath, '--host-key', lab.sshd.fingerprint, '--profile', 'generic-kvm-vps', '--disk', disk,
    '--phase-timeout', 'install=2h', '--flake', lab.dir, '--dry-run'];
  const env = { HOME: lab.dir, SSH_AUTH_SOCK: undefined };
  const r = await runCli([...common, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    dryRun: boolean; mode: string; host: string; target: string;
    plan: { host: string; profile: string; installDisk: { path: string }; files: Array<{ path: string; action: string; content: string }> };
    wipe: { target: string; disks: Array<{ path: string; sizeBytes: number }>; description: string };
    steps: Array<{ id: string; title: string }>; preflight: { buildOn: string; argv: string[] };
    installer: { phases: string[]; argv: string[] }; timeLimits: Record<string, { ms: number; text: string }>;
  };
  assert.equal(j.dryRun, true);
  assert.equal(j.mode, 'new-host');
  assert.equal(j.host, 'web1');
  assert.equal(j.target, `root@127.0.0.1:${lab.sshd.port}`);
  assert.equal(j.plan.profile, 'generic-kvm-vps');
  assert.ok(j.plan.files.some((f) => f.path === 'hosts/web1/disko.nix' && f.action === 'create' && f.content.includes('disko')));
  assert.equal(j.wipe.disks[0]!.path, j.plan.installDisk.path, 'the disk to wipe is the plan\'s install disk');
  assert.ok(j.wipe.disks[0]!.sizeBytes > 0);
  assert.match(j.wipe.description, /^This ERASES /);
  assert.deepEqual(j.steps.map((s) => s.id).slice(0, 2), ['write', 'keys']);
  assert.ok(j.preflight.argv.length > 1);
  assert.deepEqual(j.installer.phases, ['kexec', 'disko', 'install', 'reboot']);
  assert.ok(j.installer.argv.includes('--phases') && j.installer.argv.includes('--target-host'), j.installer.argv.join(' '));
  assert.equal(j.timeLimits.install!.ms, 2 * 3600 * 1000);
  assert.equal(typeof j.timeLimits.kexec!.text, 'string');

  // The text is built from the same data: the same argv and limits appear in it.
  const text = await runCli(common, { env });
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes(j.installer.argv.join(' ')), 'text and JSON show the same installer command');
  assert.ok(text.stdout.includes(j.preflight.argv.join(' ')));
  assert.ok(text.stdout.includes(j.wipe.description));
  for (const [phase, limit] of Object.entries(j.timeLimits)) assert.ok(text.stdout.includes(`${phase} ${limit.text}`), phase);
  assert.deepEqual(flakeTree(), before, 'a dry run writes nothing');
});

test('an error under --json is a document on stdout, the same exit code, and the message on stderr', async () => {
  // Bad input (exit 2): a flag the command does not know, caught before the command runs.
  const bad = await runCli(['cache', 'setup', '--server', 'cache1', '--no-such-flag', '--json', '--flake', lab.dir]);
  assert.equal(bad.code, 2, bad.stderr);
  const badDoc = JSON.parse(bad.stdout) as ErrorDoc;
  assert.equal(badDoc.ok, false);
  assert.equal(badDoc.error.code, 'bad-flag');
  assert.match(badDoc.error.message, /no-such-flag/);
  assert.equal(typeof badDoc.error.hint, 'string');
  assert.match(bad.stderr, /^error: .*no-such-flag/m, 'stderr keeps the human message');

  // Bad input inside the command (exit 2): a host name the workflow refuses.
  const host = await runCli(['backup', 'setup', 'Bad_Host!', '--json', '--flake', lab.dir]);
  assert.equal(host.code, 2, host.stderr);
  const hostDoc = JSON.parse(host.stdout) as ErrorDoc;
  assert.equal(hostDoc.ok, false);
  assert.equal(hostDoc.error.code, 'bad-host-name', host.stdout);

  // A failure (exit 1): the target cannot be reached.
  const fail = await runCli(['new-host', 'web2', '--target', 'root@127.0.0.1:1', '--profile', 'generic-kvm-vps', '--flake', lab.dir, '--dry-run', '--json', '--timeout', '2', '--host-key', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    { env: { HOME: lab.dir, SSH_AUTH_SOCK: undefined } });
  assert.equal(fail.code, 1, fail.stderr);
  const failDoc = JSON.parse(fail.stdout) as ErrorDoc;
  assert.equal(failDoc.ok, false);
  assert.ok(failDoc.error.code.length > 0);
  assert.ok(failDoc.error.message.length > 0);
  assert.ok(fail.stderr.includes('error: '), 'stderr keeps the human message');

  // Without --json the same error stays text: stdout is empty.
  const plain = await runCli(['cache', 'setup', '--server', 'cache1', '--no-such-flag', '--flake', lab.dir]);
  assert.equal(plain.code, 2);
  assert.equal(plain.stdout, '');

  // An unknown command with --json is still a document (a script asked for JSON).
  const unknown = await runCli(['cahce', 'setup', '--json']);
  assert.equal(unknown.code, 2);
  assert.equal((JSON.parse(unknown.stdout) as ErrorDoc).error.code, 'unknown-command');
  // `--json` after `--` is an argument, not the flag.
  const after = await runCli(['cahce', '--', '--json']);
  assert.equal(after.stdout, '');
});

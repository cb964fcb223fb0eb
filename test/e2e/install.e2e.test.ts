/**
 * End to end: `bootstrap new-host`, `rebuild`, `recover` against namespace targets through the REAL
 * nixos-anywhere.sh (the installer lab: kexec and reboot restart the target's real sshd, the closure
 * and the extra files really land in its private /mnt). Root only.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { startS3rver } from '../helpers/s3.js';
import { silenceSdkNodeVersionWarning } from '../../src/storage/s3-client.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import type { LabTarget } from '../helpers/installer-lab.js';
import { netnsSkipReason } from '../helpers/netns.js';
import { createHash } from 'node:crypto';
import { startLabCache } from './cache-fixtures.js';
import { answersToml, assertInstalled, assertInstalledFailing, assertNoLeaks, assertNoSecretFilesLeft, installerProcesses, LAB_DISK as DISK, makeFlake, useInstallerLab, type Flake } from './harness.js';

const skip = netnsSkipReason();

const journal = (f: Flake, host: string) =>
  readFileSync(join(f.dir, '.bootstrap/state', host, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runId: string; stepId: string; status: string });
const mnt = (t: LabTarget) => new Map(t.mntFiles().map((e) => [e.path, e.mode]));

describe('install end to end (the real nixos-anywhere.sh, namespace targets)', { skip: skip ?? false, timeout: 20 * 60_000 }, () => {
  const lab = useInstallerLab();

  test('new-host installs web1 in one installer call after one build; rebuild reuses the identity; a changed disk stops it', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    const nixBefore = lab().nixCalls().length;
    try {
      writeFileSync(join(f.dir, 'web1.toml'), answersToml(t, 'web1'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'web1.toml'), '--json']);
      assertInstalled(r);
      const summary = JSON.parse(r.stdout) as { host: string; hostKey: { fingerprint: string }; ran: string[] };
      assert.deepEqual(summary.ran, ['write', 'keys', 'recipients', 'preflight', 'kexec', 'disko', 'install', 'reboot', 'verify']);
      // The target really went through kexec, disko, the install and the reboot, and came back with our key.
      const st = t.state();
      assert.deepEqual([st.kexecs, st.reboots, st.diskoRan, st.phase], [1, 1, true, 'installed']);
      assert.match(st.installed ?? '', /-nixos-system-web1/);
      assert.equal(t.fingerprint, summary.hostKey.fingerprint);
      const files = mnt(t);
      assert.equal(files.get('/mnt/etc/ssh/ssh_host_ed25519_key'), '600');
      assert.equal(files.get('/mnt/var/lib/sops-nix/key.txt'), '600');
      // One call for all four phases, with the store paths preflight built: nothing evaluated or built twice.
      const runs = f.installerRuns();
      assert.deepEqual(runs.map((x) => x.phases), ['kexec,disko,install,reboot']);
      assert.match(runs[0]!.argv, /--store-paths \S+-disko \S+-nixos-system-web1/);
      const calls = lab().nixCalls().slice(nixBefore);
      assert.equal(calls.filter((c) => c.kind === 'build').length, 1, 'one nix build of both attributes');
      assert.equal(calls.filter((c) => c.kind === 'build').flatMap((c) => c.argv).filter((a) => a.endsWith('system.build.toplevel')).length, 1);
      assert.equal(calls.filter((c) => c.kind === 'eval').length, 4, 'the plan evaluates whether flake.nix picks up web1; preflight the host list, the disks, and once who can log in and become root, sshd, the firewall and the tailnet (the login check and the lock-out guard); the installer nothing');
      assert.equal(calls.filter((c) => c.kind === 'eval' && c.argv.includes('--offline')).length, 1, 'one evaluation for the plan, offline');
      // The operator's key (the -i key's .pub) is root's authorized key in the new default.nix.
      assert.ok(readFileSync(join(f.dir, 'hosts/web1/default.nix'), 'utf8').includes(readFileSync(`${t.clientKeyPath}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')));
      assert.ok(calls.some((c) => c.kind === 'copy'), 'the installer copied the closure over ssh');
      for (const file of ['disko.nix', 'hardware.nix', 'default.nix', 'facts.json', 'bootstrap.toml']) assert.ok(existsSync(join(f.dir, 'hosts/web1', file)), file);
      assert.match(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), /&host_web1 age1/);
      assert.deepEqual(f.secretDirs(), []);

      // rebuild from the committed manifest: --yes alone (the manifest names the disk), same identity.
      const fp = t.fingerprint;
      const rb = await f.cli(['rebuild', 'web1', '--yes', '-i', t.clientKeyPath, '--json', '--wait-timeout', '60']);
      assertInstalled(rb);
      assert.equal((JSON.parse(rb.stdout) as { hostKey: { fingerprint: string } }).hostKey.fingerprint, fp);
      assert.equal(t.fingerprint, fp, 'rebuild reused the provisioned key');
      assert.equal(t.state().kexecs, 2);

      // A changed disk size in the manifest stops the rebuild before any write.
      const manifestPath = join(f.dir, 'hosts/web1/bootstrap.toml');
      writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(/sizeBytes = (\d+)/, (_m, n: string) => `sizeBytes = ${Number(n) + 1}`));
      const bad = await f.cli(['rebuild', 'web1', '--yes', '-i', t.clientKeyPath]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /install disk .* changed \(size/);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
      assert.equal(f.installerRuns().length, 2, 'no installer call');
      assert.equal(t.state().kexecs, 2);
      assert.ok(assertNoLeaks(f) > 0, 'the leak scan looked for something');
    } finally {
      await f.close();
    }
  });

  test('a target without a route to GitHub: without a kexec route its kexec phase fails on the download with a hint naming the routes; it boots the pinned kexec image uploaded from here (a tampered one is refused); with the fleet attic cache: without attic on PATH the closure is streamed (and says why); with it, pushed first and substituted by the target, so the install phase sends a fraction; bytes per phase journaled', async () => {
    const PAYLOAD = 3_000_000; // an incompressible 3 MB system closure
    const t = await lab().addTarget({ noGithub: true }); // and it cannot download the kexec image
    const f = await makeFlake(lab());
    const cache = await startLabCache(lab(), f);
    const { attic } = cache;
    try {
      cache.configure();
      const env = { FAKE_NIX_CLOSURE_BYTES: String(PAYLOAD) };
      type Out = { transfer: { sentBytes: number; phases: Record<string, { sentBytes: number; connections: number }>; closure: { from: string; missing?: string; reason: string } } };

      // Without a kexec route the target (it has a default route) tries GitHub in the kexec phase: the
      // download fails there, nothing boots, and the hint names the other routes.
      writeFileSync(join(f.dir, 'gh.toml'), answersToml(t, 'cweb'));
      const rg = await f.cli(['new-host', '--answers', join(f.dir, 'gh.toml')], env);
      assert.equal(rg.code, 1, rg.stderr);
      assert.match(rg.stderr, /nixos-anywhere failed in phase kexec/);
      assert.match(rg.stderr, /hint: the target could not download the kexec image .*--kexec-image FILE --kexec-sha256 HEX \(uploaded from here\), --kexec-url URL --kexec-sha256 HEX or --kexec-from cache --kexec-sha256 HEX/);
      assert.deepEqual([t.state().kexecs, f.installerRuns().length], [0, 1]);

      // 0. The kexec image comes from here, pinned: a tampered copy is refused before anything boots.
      const image = join(f.dir, 'nixos-kexec-installer.tar.gz');
      writeFileSync(image, readFileSync(lab().kexecTarball));
      const sha = createHash('sha256').update(readFileSync(image)).digest('hex');
      const bad = join(f.dir, 'tampered.tar.gz');
      writeFileSync(bad, Buffer.concat([readFileSync(image), Buffer.from('x')]));
      writeFileSync(join(f.dir, 'bad.toml'), answersToml(t, 'cweb', `kexecImage = "${bad}"\nkexecSha256 = "${sha}"\n`));
      const r0 = await f.cli(['new-host', '--answers', join(f.dir, 'bad.toml')], env);
      assert.equal(r0.code, 1, r0.stderr);
      assert.match(r0.stderr, /the kexec image \S+tampered\.tar\.gz has sha256 [0-9a-f]{64}, not the pinned [0-9a-f]{64}; nothing was booted/);
      assert.deepEqual([t.state().kexecs, f.installerRuns().length], [0, 1]);
      const nohash = await f.cli(['new-host', 'cweb', '--target', t.target, '--kexec-image', image, '--yes']);
      assert.equal(nohash.code, 2);
      assert.match(nohash.stderr, /--kexec-image without --kexec-sha256/);

      // 1. attic is not on PATH: the target asks the (empty) cache, the closure streams from here.
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'cweb', `kexecImage = "${image}"\nkexecSha256 = "sha256:${sha}"\n`));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml'), '--json'], env);
      assertInstalled(r1);
      const o1 = JSON.parse(r1.stdout) as Out;
      assert.equal(o1.transfer.closure.from, 'cache');
      assert.equal(o1.transfer.closure.missing, 'streamed');
      assert.match(r1.stderr, /closure: from the cache: the target substitutes from cache "main" \(http:\/\/10\.231\.\d+\.1:\d+\/main\); paths it lacks are streamed from here \(the attic client is not on PATH/);
      assert.deepEqual(Object.keys(o1.transfer.phases), ['kexec', 'disko', 'install', 'reboot']);
      // The target has no route to GitHub: the image it booted is the one uploaded from here.
      assert.equal(t.state().kexecs, 1);
      assert.match(f.installerRuns().at(-1)!.argv, new RegExp(`--kexec ${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.ok(o1.transfer.phases.install!.sentBytes > PAYLOAD, `install sent ${o1.transfer.phases.install!.sentBytes}`);
      assert.equal(attic.log.filter((l) => l.what === 'upload-path').length, 0);
      // The installer's nix got the cache (its netrc too: a private cache), in the installer's RAM only.
      assert.match(f.installerRuns()[1]!.argv, /--disk-encryption-keys \/root\/\.config\/nix\/nix\.conf \S+ --disk-encryption-keys \/root\/\.config\/nix\/netrc \S+/);
      assert.ok(attic.log.some((l) => l.what === 'narinfo' && l.status === 404 && l.sub === 'bootstrap-pull'), 'the target asked the cache with the pull token');
      const installed = t.state().installed!;
      assert.equal(readFileSync(join(t.dir.mnt, installed, 'payload')).length, PAYLOAD);
      // The journal has the bytes of each phase.
      const done = journal(f, 'cweb').filter((e) => e.status === 'done' && e.stepId === 'install') as Array<{ transfer?: { sentBytes: number } }>;
      assert.equal(done.at(-1)!.transfer!.sentBytes, o1.transfer.phases.install!.sentBytes);

      // 2. attic on PATH (the strict fake): what the cache lacks is pushed first; the target substitutes it.
      const r2 = await f.cli(['rebuild', 'cweb', '--yes', '-i', t.clientKeyPath, '--json', '--wait-timeout', '60'], { ...env, PATH: cache.atticPath });
      assertInstalled(r2);
      const o2 = JSON.parse(r2.stdout) as Out;
      assert.equal(o2.transfer.closure.missing, 'pushed');
      assert.match(r2.stderr, /closure: from the cache: .*what it lacked was pushed first with attic/);
      const uploads = attic.log.filter((l) => l.what === 'upload-path');
      assert.deepEqual(uploads.map((l) => [l.status, l.sub]), [[200, 'bootstrap-push'], [200, 'bootstrap-push']], 'the disko script and the system, with the push token');
      assert.ok(uploads.some((l) => (l.bytesIn ?? 0) > PAYLOAD));
      assert.ok(attic.log.some((l) => l.what === 'nar' && l.status === 200 && (l.bytesOut ?? 0) > PAYLOAD), 'the target fetched the system from the cache');
      assert.ok(o2.transfer.phases.install!.sentBytes < PAYLOAD / 20, `install sent ${o2.transfer.phases.install!.sentBytes} with the cache`);
      assert.equal(readFileSync(join(t.dir.mnt, t.state().installed!, 'payload')).length, PAYLOAD);
      assert.deepEqual(f.secretDirs(), [], 'the attic configuration and the installer nix.conf went with the secret directory');
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await attic.close();
      await f.close();
    }
  });

  test('issue 20: a target with no route outside is refused without a kexec route; the image from a URL of the lab (a tampered one refused on the target, nothing booted) and from the fleet storage, each hashed on the target before kexec', async () => {
    const t = await lab().addTarget({ noGithub: true, noDefaultRoute: true });
    const f = await makeFlake(lab());
    const good = readFileSync(lab().kexecTarball);
    const sha = createHash('sha256').update(good).digest('hex');
    const tampered = Buffer.concat([good, Buffer.from('x')]);
    const badSha = createHash('sha256').update(tampered).digest('hex');
    // A web server on the lab's bridge (the target reaches it, nothing else) and s3rver there too.
    const hits: string[] = [];
    const web = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/good/nixos-kexec-installer.tar.gz') res.end(good);
      else if (req.url === '/bad/nixos-kexec-installer.tar.gz') res.end(tampered);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => web.listen(0, lab().gateway, r));
    const base = `http://${lab().gateway}:${(web.address() as { port: number }).port}`;
    const s3 = await startS3rver({ address: lab().gateway });
    const fetched = join(t.dir.root, '.nixos-bootstrap-kexec', `${sha}.tar.gz`);
    try {
      // 0. No route given: refused in preflight, before anything touched the target.
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'kweb'));
      const r0 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r0.code, 1, r0.stderr);
      assert.match(r0.stderr, /kweb has no IPv4 default route, so it cannot download the kexec installer image from GitHub; nothing was touched/);
      assert.match(r0.stderr, /--kexec-url URL --kexec-sha256 HEX/);
      assert.doesNotMatch(r0.stderr, /\n\s+at /);
      assert.deepEqual([t.state().kexecs, f.installerRuns().length], [0, 0]);

      // 1. The URL serves another file: the target's hash of it is refused, both named; nothing booted.
      writeFileSync(join(f.dir, 'bad.toml'), answersToml(t, 'kweb', `kexecUrl = "${base}/bad/nixos-kexec-installer.tar.gz"\nkexecSha256 = "${sha}"\n`));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'bad.toml')]);
      assert.equal(r1.code, 1, r1.stderr);
      assert.match(r1.stderr, new RegExp(`the kexec image kweb downloaded from ${base.replace(/\./g, '\\.')}/bad/nixos-kexec-installer\\.tar\\.gz has sha256 ${badSha}, not the pinned ${sha}; nothing was booted`));
      assert.deepEqual([t.state().kexecs, f.installerRuns().length], [0, 0]);
      assert.equal(existsSync(join(t.dir.root, '.nixos-bootstrap-kexec', `${sha}.tar.gz.part`)), false, 'the wrong download was removed');
      assert.ok(hits.includes('/bad/nixos-kexec-installer.tar.gz'));

      // A URL the target cannot fetch: refused in preflight, the hint to upload the image from here.
      writeFileSync(join(f.dir, 'gone.toml'), answersToml(t, 'kweb', `kexecUrl = "${base}/gone/nixos-kexec-installer.tar.gz"\nkexecSha256 = "${sha}"\n`));
      const rg = await f.cli(['new-host', '--answers', join(f.dir, 'gone.toml')]);
      assert.equal(rg.code, 1, rg.stderr);
      assert.match(rg.stderr, /kweb could not download the kexec image from http:\S+\/gone\/nixos-kexec-installer\.tar\.gz \(exit 22: curl: \(22\) [^)]*404[^)]*\); nothing was booted\n\s+hint: check that the target reaches \S+, or give it as --kexec-image FILE --kexec-sha256 [0-9a-f]{64} \(uploaded from here, checked here\)/);
      assert.deepEqual([t.state().kexecs, f.installerRuns().length], [0, 0]);

      // 2. --kexec-url: downloaded by the target, hashed there; nixos-anywhere uploads the small verifying tarball.
      writeFileSync(join(f.dir, 'url.toml'), answersToml(t, 'kweb', `kexecUrl = "${base}/good/nixos-kexec-installer.tar.gz"\nkexecSha256 = "${sha}"\n`));
      const r2 = await f.cli(['new-host', '--answers', join(f.dir, 'url.toml'), '--json']);
      assertInstalled(r2);
      assert.deepEqual((JSON.parse(r2.stdout) as { kexecImage: unknown }).kexecImage, { from: 'url', sha256: sha, url: `${base}/good/nixos-kexec-installer.tar.gz`, checked: 'on the target, after its download and again right before kexec' });
      assert.equal(t.state().kexecs, 1);
      assert.match(f.installerRuns().at(-1)!.argv, /--kexec \S+\/kexec-verified\.tar /);
      assert.deepEqual(readFileSync(fetched), good, 'the image on the target is the pinned one');
      assert.ok(existsSync(join(t.dir.root, 'kexec/kexec/run')), 'nixos-anywhere unpacked the verifying kexec/run in ~/kexec');
      assert.equal(hits.filter((h) => h.startsWith('/good/')).length, 1, 'downloaded once: the call before kexec found it there, hashed it again and kept it');

      // 3. --kexec-from cache: put with `bootstrap cache kexec-image`, downloaded by the target with a presigned URL.
      writeFileSync(join(f.dir, 'bootstrap.toml'), `${readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8')}\n[storage.lab]\nprovider = "custom"\nendpoint = "${s3.endpoint}"\nbucket = "fleet"\nregion = "us-east-1"\n\n[cache]\nstorage = "lab"\n`);
      for (const [name, value] of [['storage/lab/access-key-id', 'S3RVER'], ['storage/lab/secret-access-key', 'S3RVER']] as const) {
        const r = await runCli(['secrets', 'set', name, '--flake', f.dir], { env: f.env, input: value });
        assert.equal(r.code, 0, r.stderr);
      }
      silenceSdkNodeVersionWarning();
      const admin = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      await admin.send(new CreateBucketCommand({ Bucket: 'fleet' }));
      admin.destroy();
      const image = join(f.dir, 'nixos-kexec-installer.tar.gz');
      writeFileSync(image, good);
      const put = await f.cli(['cache', 'kexec-image', image]);
      assert.equal(put.code, 0, put.stderr);
      assert.match(put.stdout, new RegExp(`^${sha}  fleet/kexec-images/${sha}\\.tar\\.gz \\(uploaded\\)\ninstall with: --kexec-from cache --kexec-sha256 ${sha}`));
      rmSync(join(t.dir.root, '.nixos-bootstrap-kexec'), { recursive: true, force: true }); // so the target must fetch it from the storage
      const r3 = await f.cli(['rebuild', 'kweb', '--yes', '-i', t.clientKeyPath, '--json', '--wait-timeout', '60', '--kexec-from', 'cache', '--kexec-sha256', sha]);
      assertInstalled(r3);
      assert.equal((JSON.parse(r3.stdout) as { kexecImage: { from: string } }).kexecImage.from, 'cache');
      assert.equal(t.state().kexecs, 2);
      assert.deepEqual(readFileSync(fetched), good, 'fetched from the storage');
      assert.equal(hits.filter((h) => h.startsWith('/good/')).length, 1, 'not from the web server');
      assert.doesNotMatch(r3.stderr + r3.stdout, /X-Amz-Signature=[0-9a-f]/, 'the presigned URL is not printed');
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      web.close();
      await s3.close();
      await f.close();
    }
  });

  // Issue 20 rides along: the target is reachable only through a bastion, named by an ssh config
  // alias (HostName, Port 2222, IdentityFile, ProxyJump) that every connection resolves with ssh -G.
  test('through a bastion by an ssh config alias with Port 2222: a failed disko phase resumes with --resume, a new call for the phases left, on the installer port', async () => {
    const bastion = await lab().addBastion();
    const t = await lab().addTarget({ port: 2222, behind: bastion });
    const f = await makeFlake(lab());
    const nixBefore = lab().nixCalls().length;
    try {
      const sshConfig = join(f.dir, 'ssh_config');
      writeFileSync(sshConfig, `Host web2\n  HostName ${t.ip}\n  Port 2222\n  IdentityFile ${t.clientKeyPath}\n  ProxyJump bastion\nHost bastion\n  HostName ${bastion.ip}\n  User root\n  IdentityFile ${bastion.clientKeyPath}\n`);
      // The bastion's key is pinned like any host's; the target's comes with hostKey.
      mkdirSync(join(f.dir, '.bootstrap'), { recursive: true });
      writeFileSync(join(f.dir, '.bootstrap/known_hosts'), `${bastion.ip} ${readFileSync(`${bastion.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
      writeFileSync(join(t.dir.tmp, 'nb-lab-fail-disko'), '');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'web2').replace(/^target = .*$/m, `target = "web2"\nsshConfig = "${sshConfig}"`));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r1.code, 1, r1.stderr);
      assert.match(r1.stderr, /nixos-anywhere failed in phase disko at "Formatting hard drive with disko"/);
      assert.match(r1.stderr, /--resume/);
      assert.deepEqual(f.secretDirs(), []);
      assert.equal(t.state().phase, 'installer');
      const r2 = await f.cli(['new-host', 'web2', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assertInstalled(r2);
      const runs = f.installerRuns();
      assert.deepEqual(runs.map((x) => x.phases), ['kexec,disko,install,reboot', 'disko,install,reboot']);
      assert.match(runs[0]!.argv, /--target-host root@web2 -p 2222 /, 'the installer keeps the alias (its route goes through our ssh guard)');
      assert.match(runs[1]!.argv, / -p 22 /, 'the resumed call starts on the installer port 22, over the alias\'s Port');
      assert.equal(t.state().kexecs, 1);
      assert.equal(t.port, 2222, 'the installed system listens where the manifest says');
      assert.match(readFileSync(join(f.dir, 'hosts/web2/default.nix'), 'utf8'), /ports = lib.mkDefault \[ 2222 \];/);
      assert.match(readFileSync(join(f.dir, 'hosts/web2/bootstrap.toml'), 'utf8'), /^target = "root@web2:2222"$/m, 'the manifest names the alias with the resolved port');
      assert.match(readFileSync(join(f.dir, 'hosts/web2/bootstrap.toml'), 'utf8'), /^\[ssh\]\nconfig = "ssh_config"$/m, 'the route is recorded, relative to the flake root');
      // Later runs find the route by themselves (issue 20): status through the bastion, no --ssh-config.
      const st = await f.cli(['status', 'web2', '--json', '--no-drift', '-i', t.clientKeyPath]);
      const h = (JSON.parse(st.stdout) as { hosts: Array<{ target: string; error?: unknown }> }).hosts[0]!;
      assert.equal(h.error, undefined, st.stdout + st.stderr);
      assert.equal(h.target, `root@${t.ip}:2222`);
      // rebuild reads the same record: its probe reaches the target through the bastion (dry run: nothing changes).
      const rb = await f.cli(['rebuild', 'web2', '--dry-run', '--json', '-i', t.clientKeyPath]);
      assert.equal(rb.code, 0, rb.stderr);
      assert.match((JSON.parse(rb.stdout) as { target: string }).target, new RegExp(`^root@${t.ip.replace(/\./g, '\\.')}:2222$`));
      const entries = journal(f, 'web2');
      const runIds = [...new Set(entries.map((e) => e.runId))];
      assert.deepEqual(entries.filter((e) => e.runId === runIds[1] && e.status === 'started').map((e) => e.stepId), ['disko', 'install', 'reboot', 'verify']);
      assert.equal(lab().nixCalls().slice(nixBefore).filter((c) => c.kind === 'build').length, 1, 'the resumed run reuses the first build');
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('issue 18: an OVH VPS whose virtio-blk disk has no serial and no by-id link (only /dev/vda and a by-path link) installs and rebuilds', async () => {
    const t = await lab().addTarget({ scenario: join(REPO_ROOT, 'test/fixtures/scenarios/ovh-vps') });
    const f = await makeFlake(lab());
    try {
      const byPath = '/dev/disk/by-path/pci-0000:00:04.0';
      writeFileSync(join(f.dir, 'ovh.toml'), answersToml(t, 'ovh1').replace(`confirmDisk = "${DISK}"`, `confirmDisk = "${byPath}"`));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'ovh.toml'), '--json']);
      assertInstalled(r);
      const summary = JSON.parse(r.stdout) as { installDisk: { path: string; byId: string | null }; hostKey: { fingerprint: string } };
      assert.deepEqual([summary.installDisk.path, summary.installDisk.byId], [byPath, null], 'the plan took the by-path link');
      assert.match(readFileSync(join(f.dir, 'hosts/ovh1/disko.nix'), 'utf8'), /device = "\/dev\/disk\/by-path\/pci-0000:00:04\.0";/);
      assert.deepEqual([t.state().diskoRan, t.state().phase], [true, 'installed']);
      assert.equal(t.fingerprint, summary.hostKey.fingerprint);
      // rebuild from the manifest finds the same disk by that link again.
      const rb = await f.cli(['rebuild', 'ovh1', '--yes', '-i', t.clientKeyPath, '--json', '--wait-timeout', '60']);
      assertInstalled(rb);
      assert.equal(t.state().kexecs, 2);
    } finally {
      await f.close();
    }
  });

  test('a host that comes back with another key fails the verify step, naming both keys', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'spare'));
      assertInstalled(await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]));
      await t.host.restartWithHostKey(); // someone else's machine now answers at that address
      const r = await f.cli(['new-host', 'spare', '--from', 'verify', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /presents host key SHA256:\S+ .*must present SHA256:/);
      const last = journal(f, 'spare').at(-1)!;
      assert.deepEqual([last.stepId, last.status], ['verify', 'failed']);
    } finally {
      await f.close();
    }
  });

  test('recover reinstalls web3 on a new machine with the same identity', async () => {
    const old = await lab().addTarget();
    const fresh = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(old, 'web3'));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml'), '--json']);
      assertInstalled(r1);
      const fp = (JSON.parse(r1.stdout) as { hostKey: { fingerprint: string } }).hostKey.fingerprint;
      // The lab gives each machine its own client key: the operator still holds the key web3 authorizes
      // (the lock-out guard refuses a recover whose operator could not log in, issue 21).
      const r2 = await f.cli(['recover', 'web3', '--target', fresh.target, '-i', fresh.clientKeyPath, '--login-key', `${old.clientKeyPath}.pub`, '--host-key', fresh.fingerprint, '--yes', '--confirm-disk', DISK, '--json', '--wait-timeout', '60']);
      assertInstalled(r2);
      const out = JSON.parse(r2.stdout) as { mode: string; hostKey: { fingerprint: string }; ran: string[] };
      assert.equal(out.mode, 'recover');
      assert.equal(out.hostKey.fingerprint, fp);
      assert.equal(fresh.fingerprint, fp, 'the new machine presents the same host key');
      assert.ok(out.ran.includes('restore'));
      assert.match(r2.stderr, /no backups configured/);
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('an encrypted install hands the LUKS passphrase to disko as a 0600 file, never in argv or output', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'crypt1', 'encrypt = true\n'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assertInstalled(r);
      const argv = f.installerRuns()[0]!.argv;
      assert.match(argv, /--disk-encryption-keys \/tmp\/secret\.key \S+disk-encryption\.key/);
      const passphrase = f.vaultSecret('hosts/crypt1/luks_passphrase');
      assert.ok(passphrase.length >= 30);
      assert.ok(!argv.includes(passphrase), 'the passphrase is not in argv');
      // disko ran with the key file present on the target, 0600, as long as the passphrase.
      assert.equal(readFileSync(join(t.dir.mnt, '.disko-key'), 'utf8').trim(), `600 ${Buffer.byteLength(passphrase)}`);
      assert.ok(assertNoLeaks(f) >= 2);
    } finally {
      await f.close();
    }
  });

  test('--copy-host-keys keeps the target key: recipient from the pinned key, the installer copies it, verify expects it', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const original = t.fingerprint;
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'keep1', 'copyHostKeys = true\n'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml'), '--json']);
      assertInstalled(r);
      assert.equal((JSON.parse(r.stdout) as { identity: string }).identity, 'copy-target-keys');
      assert.equal(t.fingerprint, original, 'the installed host presents its own key');
      assert.equal(t.state().phase, 'installed');
      assert.match(f.installerRuns()[0]!.argv, /--copy-host-keys/);
      assert.equal(mnt(t).get('/mnt/etc/ssh/ssh_host_ed25519_key'), '600');
      assert.ok(!existsSync(join(f.dir, 'secrets/bootstrap/hosts/keep1/ssh_host_ed25519_key.age')), 'no host key was made');
      assert.match(readFileSync(join(f.dir, '.sops.yaml'), 'utf8'), /&host_keep1 age1/);
    } finally {
      await f.close();
    }
  });

  test('[sops] mode = "none" and separateKeyPath: what lands in the installed /mnt, all 0600', async () => {
    const t1 = await lab().addTarget();
    const t2 = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const base = readFileSync(join(f.dir, 'bootstrap.toml'), 'utf8');
      writeFileSync(join(f.dir, 'bootstrap.toml'), base + '\n[sops]\nmode = "none"\n');
      const { loadConfig } = await import('../../src/config/load.js');
      const { openSecretStore } = await import('../../src/secrets/open-store.js');
      const store = await openSecretStore(await loadConfig(f.dir), { env: { ...process.env, ...f.env } });
      await store.put('hosts/plain1/restic-password', 'correct-horse-battery-staple-restic', { kind: 'password' });
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t1, 'plain1'));
      const r = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assertInstalled(r);
      const files1 = mnt(t1);
      assert.equal(files1.get('/mnt/var/lib/bootstrap/secrets/restic-password'), '600');
      assert.equal(files1.get('/mnt/etc/ssh/ssh_host_ed25519_key'), '600');
      assert.ok(![...files1.keys()].some((p) => p.includes('sops-nix')), 'no sops age key without sops');
      assert.ok(!f.printed.join('').includes('correct-horse-battery-staple-restic'));

      writeFileSync(join(f.dir, 'bootstrap.toml'), base + '\n[sops]\nseparateKeyPath = "/var/lib/sops-nix/admin-key.txt"\n');
      writeFileSync(join(f.dir, 'b.toml'), answersToml(t2, 'sep1'));
      // Broken on purpose: the installed system boots with a failed unit. Installed, health failing (3).
      writeFileSync(join(t2.dir.tmp, 'nb-lab-failed-unit'), '');
      const r2 = await f.cli(['new-host', '--answers', join(f.dir, 'b.toml'), '--json']);
      assertInstalledFailing(r2, 'system.failed-units', /journalctl -b -u nb-lab-broken\.service/);
      const files2 = mnt(t2);
      assert.equal(files2.get('/mnt/var/lib/sops-nix/key.txt'), '600');
      assert.equal(files2.get('/mnt/var/lib/sops-nix/admin-key.txt'), '600');
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('--copy-host-keys resumed after a failed install still knows which key the host must present', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const original = t.fingerprint;
      const toml = answersToml(t, 'keep2', 'copyHostKeys = true\nacceptNewHostKey = true\n').replace(/^hostKey = .*\n/m, '');
      writeFileSync(join(f.dir, 'a.toml'), toml);
      writeFileSync(join(t.dir.tmp, 'nb-lab-fail-install'), '');
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, /phase install/);
      const r2 = await f.cli(['new-host', 'keep2', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assertInstalled(r2);
      assert.equal(t.fingerprint, original);
      assert.deepEqual(f.installerRuns().map((x) => x.phases), ['kexec,disko,install,reboot', 'install,reboot']);
    } finally {
      await f.close();
    }
  });

  test('recover restores the latest backup onto the reinstalled host and verifies it (real restic)', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const { execFileSync } = await import('node:child_process');
      const { mkdirSync, chmodSync } = await import('node:fs');
      // Outside /tmp: the target has a private /tmp, but sees the lab's directory.
      const work = join(t.dir.base, 'restic-work');
      const data = join(work, 'data');
      const repo = join(work, 'repo');
      const sandbox = join(work, 'host-root');
      mkdirSync(join(data, 'srv/app'), { recursive: true });
      mkdirSync(sandbox);
      writeFileSync(join(data, 'srv/app/db.sqlite'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
      writeFileSync(join(data, 'srv/app/config.yaml'), 'listen: 8080\n');
      const pwFile = join(work, 'restic-pw');
      writeFileSync(pwFile, 'restic-test-password-0123456789', { mode: 0o600 });
      const renv = { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_FILE: pwFile, RESTIC_CACHE_DIR: join(work, 'cache') };
      execFileSync('restic', ['init'], { env: renv, stdio: 'ignore' });
      execFileSync('restic', ['backup', '--host', 'rec1', join(data, 'srv')], { env: renv, stdio: 'ignore' });
      const { loadConfig } = await import('../../src/config/load.js');
      const { openSecretStore } = await import('../../src/secrets/open-store.js');
      const store = await openSecretStore(await loadConfig(f.dir), { env: { ...process.env, ...f.env } });
      await store.put('hosts/rec1/restic-password', 'restic-test-password-0123456789', { kind: 'password' });
      // FAKE of the restic-bootstrap wrapper NixOS builds from backup.nix: real restic on this test's
      // repository, with "/" mapped to a sandbox (the namespace shares this machine's filesystem).
      const wrapper = join(t.dir.base, 'shims', 'restic-bootstrap');
      writeFileSync(wrapper, [
        '#!/bin/sh',
        `export RESTIC_REPOSITORY='${repo}' RESTIC_PASSWORD_FILE='${pwFile}' RESTIC_CACHE_DIR='${join(work, 'cache')}'`,
        'n=$#; prev=""',
        'for a in "$@"; do',
        `  if [ "$prev" = "--target" ] && [ "$a" = "/" ]; then a='${sandbox}'; fi`,
        '  set -- "$@" "$a"; prev="$a"',
        'done',
        'shift $n',
        'exec restic "$@"',
      ].join('\n') + '\n');
      chmodSync(wrapper, 0o755);
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'rec1'));
      const r1 = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assertInstalled(r1);
      const r2 = await f.cli(['recover', 'rec1', '--yes', '-i', t.clientKeyPath, '--json', '--wait-timeout', '60']);
      assertInstalled(r2);
      assert.ok((JSON.parse(r2.stdout) as { ran: string[] }).ran.includes('restore'));
      assert.match(r2.stderr, /restore rec1 snapshot \w+ on the host into \/ — verified/);
      const restored = join(sandbox, data, 'srv/app');
      assert.deepEqual(readFileSync(join(restored, 'db.sqlite')), readFileSync(join(data, 'srv/app/db.sqlite')));
      assert.equal(readFileSync(join(restored, 'config.yaml'), 'utf8'), 'listen: 8080\n');
      assert.ok(!f.printed.join('').includes('restic-test-password-0123456789'));
      assert.ok(assertNoLeaks(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('SIGINT during install: the installer is stopped, the secret directory removed, journal says interrupted, lock freed', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const { spawn } = await import('node:child_process');
      writeFileSync(join(t.dir.tmp, 'nb-lab-slow-install'), '');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'sig1'));
      const child = spawn(process.execPath, ['--import', `${REPO_ROOT}node_modules/tsx/dist/loader.mjs`, `${REPO_ROOT}src/bin.ts`, 'new-host', '--answers', join(f.dir, 'a.toml'), '--flake', f.dir], {
        env: { ...process.env, ...f.env, NO_COLOR: '1', CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      for (let i = 0; i < 600 && !journal0(f, 'sig1').some((e) => e.stepId === 'install' && e.status === 'started'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(f.secretDirs().length > 0, 'the secret directory exists while installing');
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      assert.equal(code, 130, err);
      assert.deepEqual(f.secretDirs(), []);
      const last = journal(f, 'sig1').at(-1)!;
      assert.deepEqual([last.stepId, last.status], ['install', 'interrupted']);
      assert.ok(!existsSync(join(f.dir, '.bootstrap/state/sig1/lock')), 'lock released');
      assert.deepEqual(installerProcesses(f), [], 'no installer left running');
      assert.ok(assertNoSecretFilesLeft(f) > 0);
    } finally {
      await f.close();
    }
  });

  test('a second run while installing is refused and changes nothing; kill -9 during install: the resumed run stops the orphaned installer, wipes the dead run\'s secrets, finishes; nothing left in /tmp, /dev/shm or the runtime dir', async () => {
    const t = await lab().addTarget();
    const f = await makeFlake(lab());
    try {
      const { spawn } = await import('node:child_process');
      writeFileSync(join(t.dir.tmp, 'nb-lab-slow-install'), '');
      writeFileSync(join(f.dir, 'a.toml'), answersToml(t, 'kill1'));
      const child = spawn(process.execPath, ['--import', `${REPO_ROOT}node_modules/tsx/dist/loader.mjs`, `${REPO_ROOT}src/bin.ts`, 'new-host', '--answers', join(f.dir, 'a.toml'), '--flake', f.dir], {
        env: { ...process.env, ...f.env, NO_COLOR: '1', CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const lockPath = join(f.dir, '.bootstrap/state/kill1/lock');
      const lockInfo = () => (existsSync(lockPath) ? (JSON.parse(readFileSync(lockPath, 'utf8')) as { installer?: { pgid: number }; secretDir?: string }) : {});
      // Kill while the installer is quiet (nixos-install sleeps): output to the dead bootstrap's pipes
      // would end it by SIGPIPE, which is luck, not a guarantee; a quiet installer outlives it.
      const quiet = () => f.installerLogs().includes('fake nixos-install: sleeping 60 s');
      for (let i = 0; i < 600 && !(quiet() && lockInfo().installer); i++) await new Promise((r) => setTimeout(r, 100));
      const held = lockInfo();
      assert.ok(held.installer && held.secretDir, `the lock records the installer and the secret directory: ${JSON.stringify(held)} ${err}`);
      // A second run for the same host while this one installs is refused and changes nothing.
      const before = snapshotTree(f.dir).filter((e) => !e.path.startsWith('.run'));
      const second = await f.cli(['new-host', '--answers', join(f.dir, 'a.toml')]);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`another bootstrap run for kill1 is in progress \\(pid ${child.pid}`));
      assert.deepEqual(snapshotTree(f.dir).filter((e) => !e.path.startsWith('.run')), before, 'the refused run changed the flake');
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      // What kill -9 leaves: the installer (its own process group), the secrets, the lock.
      assert.ok(installerProcesses(f).length > 0, 'the installer outlives a killed bootstrap');
      assert.deepEqual(f.secretDirs(), [held.secretDir!.split('/').at(-1)]);
      assert.ok(existsSync(lockPath));
      const r = await f.cli(['new-host', 'kill1', '--resume', '--yes', '--confirm-disk', DISK, '-i', t.clientKeyPath]);
      assertInstalled(r);
      assert.match(r.stderr, new RegExp(`left its installer running \\(process group ${held.installer!.pgid}\\); stopping it`));
      assert.match(r.stderr, /wiped the secret directory the killed run of kill1 left behind \(pid \d+, started \d+ s ago\)/);
      const entries = journal(f, 'kill1');
      const runIds = [...new Set(entries.map((e) => e.runId))];
      assert.deepEqual(entries.filter((e) => e.runId === runIds.at(-1) && e.status === 'started').map((e) => e.stepId), ['install', 'reboot', 'verify']);
      assert.deepEqual(installerProcesses(f), [], 'no installer left running');
      assert.deepEqual(f.secretDirs(), []);
      assert.ok(!existsSync(lockPath), 'lock released');
      assert.ok(assertNoLeaks(f) > 0);
      assert.ok(assertNoSecretFilesLeft(f) > 0, 'the scan read files');
    } finally {
      await f.close();
    }
  });
});

function journal0(f: Flake, host: string) {
  try {
    return journal(f, host);
  } catch {
    return [];
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFetchScript, buildKexecRunShim, buildKexecShimTar, buildTar, kexecCacheKey, parseFetchOutput } from './kexec-route.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A kexec image as nixos-images lays it out: kexec/run, which here leaves a mark instead of booting. */
function makeImage(dir: string, extra = ''): { file: string; sha256: string } {
  const src = join(dir, 'image-src');
  mkdirSync(join(src, 'kexec'), { recursive: true });
  writeFileSync(join(src, 'kexec/run'), `#!/bin/sh\necho "booted $*" > "$MARK"\necho 'machine will boot into nixos'\n${extra}`);
  chmodSync(join(src, 'kexec/run'), 0o755);
  const file = join(dir, 'nixos-kexec-installer.tar.gz');
  execFileSync('tar', ['-czf', file, '-C', src, 'kexec']);
  return { file, sha256: sha(readFileSync(file)) };
}

function sh(script: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; args?: string[] } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', script, 'sh', ...(opts.args ?? [])], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

test('buildTar: GNU tar lists and unpacks it, with the mode kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-tar-'));
  try {
    const tar = join(dir, 'a.tar');
    writeFileSync(tar, buildTar([{ name: 'kexec/run', mode: 0o755, content: '#!/bin/sh\necho hi\n' }, { name: 'kexec/data', mode: 0o644, content: Buffer.alloc(1000, 7) }]));
    assert.deepEqual(execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).trim().split('\n'), ['kexec/', 'kexec/run', 'kexec/data']);
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    assert.equal(execFileSync(join(dir, 'kexec/run'), { encoding: 'utf8' }), 'hi\n');
    assert.deepEqual(readFileSync(join(dir, 'kexec/data')), Buffer.alloc(1000, 7));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the verifying kexec/run boots the pinned image with nixos-anywhere's arguments, and refuses a changed one naming both hashes (nothing booted)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-shim-'));
  try {
    const img = makeImage(dir);
    const work = join(dir, 'kexec-home');
    mkdirSync(work);
    // As nixos-anywhere runs it: the small tarball unpacked in ~/kexec, then `kexec/run --kexec-extra-flags ''`.
    writeFileSync(join(work, 'shim.tar'), buildKexecShimTar(img.file, img.sha256));
    execFileSync('tar', ['-xf', 'shim.tar'], { cwd: work });
    const mark = join(dir, 'booted');
    const env = { ...process.env, MARK: mark };
    const ok = await sh('"$HOME_KEXEC/kexec/run" --kexec-extra-flags ""', { env: { ...env, HOME_KEXEC: work } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /machine will boot into nixos/);
    assert.equal(readFileSync(mark, 'utf8'), 'booted --kexec-extra-flags \n');

    // The file changes between the fetch's check and kexec: refused by the same process that would boot it.
    rmSync(mark);
    const tampered = makeImage(join(dir, 'other'), 'echo evil\n');
    writeFileSync(img.file, readFileSync(tampered.file));
    const bad = await sh('"$HOME_KEXEC/kexec/run" --kexec-extra-flags ""', { env: { ...env, HOME_KEXEC: work } });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), `nixos-bootstrap: the kexec image ${img.file} has sha256 ${tampered.sha256}, not the pinned ${img.sha256}; nothing was booted`);
    assert.doesNotMatch(bad.stdout, /machine will boot into nixos/, 'nixos-anywhere sees no kexec');
    assert.equal(existsSync(mark), false, 'the changed image never ran');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shim picks tar\'s decompression from the image name, as nixos-anywhere does', () => {
  assert.match(buildKexecRunShim('/r/x.tar.gz', 'a'.repeat(64)), /^tar -x --gzip -f "\$img"/m);
  assert.match(buildKexecRunShim('/r/x.tar.zst', 'a'.repeat(64)), /^tar -x --zstd -f/m);
  assert.match(buildKexecRunShim('/r/x.tar', 'a'.repeat(64)), /^tar -x  -f/m);
  assert.match(buildKexecRunShim("/home/o'brien/x.tar.gz", 'a'.repeat(64)), /^img='\/home\/o'\\''brien\/x\.tar\.gz'$/m);
  assert.equal(kexecCacheKey('b'.repeat(64)), `kexec-images/${'b'.repeat(64)}.tar.gz`);
});

/** A PATH with the tools a minimal target has, and curl or wget (the real ones) or neither. */
function toolPath(dir: string, downloader: 'curl' | 'wget' | 'none'): string {
  const bin = join(dir, `bin-${downloader}`);
  mkdirSync(bin);
  for (const t of ['sh', 'sha256sum', 'cut', 'mkdir', 'chmod', 'rm', 'mv', 'head', 'tr', 'sed', 'cat', ...(downloader === 'none' ? [] : [downloader])]) {
    const real = execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim();
    symlinkSync(real, join(bin, t));
  }
  return bin;
}

test('the fetch script downloads with curl or wget, URL on stdin, hashes the file on the target; a wrong one is removed; a kept one is not fetched again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-fetch-'));
  const img = makeImage(dir);
  const body = readFileSync(img.file);
  const hits: string[] = [];
  let serve = body;
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url?.startsWith('/img.tar.gz')) res.end(serve);
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    for (const tool of ['curl', 'wget'] as const) {
      const home = join(dir, `home-${tool}`);
      mkdirSync(home);
      const env = { PATH: toolPath(dir, tool), HOME: home };
      const url = `http://127.0.0.1:${port}/img.tar.gz?X-Amz-Signature=secret"\\x`;
      const script = buildFetchScript(img.sha256, 20);
      serve = body;
      const r1 = await sh(script, { env, input: `${url}\n` });
      const o1 = parseFetchOutput(r1.stdout);
      assert.deepEqual(o1, { kind: 'fetched', path: join(home, `.nixos-bootstrap-kexec/${img.sha256}.tar.gz`), sha256: img.sha256, kept: false }, `${tool}: ${r1.stdout}${r1.stderr}`);
      assert.deepEqual(readFileSync((o1 as { path: string }).path), body);
      // The URL as given on stdin, its quote and backslash intact through curl's config quoting.
      assert.equal(decodeURIComponent(hits.at(-1)!), '/img.tar.gz?X-Amz-Signature=secret"\\x', `${tool} asked for the URL given on stdin`);
      // Again: the file with the pinned hash is kept, nothing is downloaded.
      const before = hits.length;
      const r2 = await sh(script, { env, input: `${url}\n` });
      assert.deepEqual(parseFetchOutput(r2.stdout), { ...o1, kept: true });
      assert.equal(hits.length, before);
      // Another pin: the served file is not it; the download is removed and its hash reported.
      const other = 'c'.repeat(64);
      const r3 = await sh(buildFetchScript(other, 20), { env, input: `${url}\n` });
      assert.deepEqual(parseFetchOutput(r3.stdout), { kind: 'fetched', path: join(home, `.nixos-bootstrap-kexec/${other}.tar.gz.part`), sha256: img.sha256, kept: false });
      assert.equal(existsSync(join(home, `.nixos-bootstrap-kexec/${other}.tar.gz.part`)), false);
      assert.equal(existsSync(join(home, `.nixos-bootstrap-kexec/${other}.tar.gz`)), false);
      // A failed download.
      const r4 = await sh(buildFetchScript(other, 20), { env, input: `http://127.0.0.1:${port}/missing.tar.gz\n` });
      const o4 = parseFetchOutput(r4.stdout);
      assert.equal(o4?.kind, 'failed', r4.stdout);
    }
    const none = await sh(buildFetchScript(img.sha256, 20), { env: { PATH: toolPath(dir, 'none'), HOME: join(dir, 'home-none') }, input: 'http://127.0.0.1:1/x.tar.gz\n' });
    assert.deepEqual(parseFetchOutput(none.stdout), { kind: 'no-downloader' });
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseFetchOutput: the marks, unknown without them', () => {
  assert.equal(parseFetchOutput('noise\n'), undefined);
  assert.deepEqual(parseFetchOutput('@@nb-kexec failed 22 curl: (22) The requested URL returned error: 404\n'), { kind: 'failed', code: '22', error: 'curl: (22) The requested URL returned error: 404' });
  assert.deepEqual(parseFetchOutput('@@nb-kexec no-space /root/.nixos-bootstrap-kexec\n'), { kind: 'no-space', dir: '/root/.nixos-bootstrap-kexec' });
  assert.deepEqual(parseFetchOutput('@@nb-kexec no-sha256sum\n'), { kind: 'no-sha256sum' });
});

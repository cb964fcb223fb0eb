/**
 * The secret directory is removed when the process is interrupted: a child builds the tree and is
 * signalled; afterwards the directory must be gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./secret-dir-child.ts', import.meta.url));

async function runAndSignal(mode: 'bare' | 'main-like', sig: NodeJS.Signals) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const info = await new Promise<{ dir: string; extraFilesDir: string; diskEncryptionKeyFile: string; pid: number }>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('\n')) resolve(JSON.parse(stdout.split('\n')[0]!));
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code} before it was ready: ${stderr}`)));
    });
    assert.equal(statSync(info.dir).mode & 0o777, 0o700);
    assert.ok(existsSync(`${info.extraFilesDir}/etc/ssh/ssh_host_ed25519_key`));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.kill(sig);
    const res = await exited;
    return { info, ...res, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

test('SIGINT with no other handler: directory removed, process dies of SIGINT', async () => {
  const r = await runAndSignal('bare', 'SIGINT');
  assert.equal(r.signal, 'SIGINT', r.stderr);
  assert.ok(!existsSync(r.info.dir), `${r.info.dir} still exists`);
});

test('SIGTERM with no other handler: directory removed', async () => {
  const r = await runAndSignal('bare', 'SIGTERM');
  assert.equal(r.signal, 'SIGTERM', r.stderr);
  assert.ok(!existsSync(r.info.dir));
});

test('SIGINT with a main.ts-like handler: directory removed, the run unwinds and exits 130', async () => {
  const r = await runAndSignal('main-like', 'SIGINT');
  assert.equal(r.code, 130, r.stderr);
  assert.ok(!existsSync(r.info.dir));
});

test('kill -9 leaves the directory (nothing can run), the next sweep wipes it: zeros first, then gone', async () => {
  const { linkSync, mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { listSecretBases, sweepStaleSecretDirs } = await import('../../src/installer/secret-dir.js');
  const r = await runAndSignal('bare', 'SIGKILL');
  const outside = mkdtempSync(join(r.info.dir, '..', 'nb-test-link-'));
  try {
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(existsSync(r.info.diskEncryptionKeyFile), 'kill -9 leaves the secrets behind');
    // A second name for the passphrase file, outside the directory: it shows what the wipe wrote.
    const witness = join(outside, 'witness');
    linkSync(r.info.diskEncryptionKeyFile, witness);
    const swept = await sweepStaleSecretDirs(listSecretBases(process.env));
    const mine = swept.find((d) => d.path === r.info.dir);
    assert.equal(mine?.owner?.pid, r.info.pid, 'the killed child\'s directory was swept');
    assert.ok(!existsSync(r.info.dir));
    const after = readFileSync(witness);
    assert.equal(after.length, 'child-luks-passphrase'.length);
    assert.ok(after.every((b) => b === 0), 'the passphrase was overwritten before the file was removed');
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

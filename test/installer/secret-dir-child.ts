/**
 * Child process for extra-files-signal.integration.test.ts: builds the extra-files tree inside
 * withSecretDir, prints the directory as one JSON line, then waits to be signalled.
 * argv[2] = "bare" (no other signal handler) or "main-like" (a handler like src/main.ts's, which
 * aborts the run and lets it unwind).
 */
import { writeExtraFiles } from '../../src/installer/extra-files.js';
import { withSecretDir } from '../../src/installer/secret-dir.js';

const mode = process.argv[2] ?? 'bare';
const controller = new AbortController();
if (mode === 'main-like') {
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

await withSecretDir(
  async (dir) => {
    const res = await writeExtraFiles(dir, {
      hostKey: { privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nchild-secret-material-0123456789\n-----END OPENSSH PRIVATE KEY-----', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIChild test' },
      luksPassphrase: 'child-luks-passphrase',
    });
    process.stdout.write(JSON.stringify({ dir, pid: process.pid, ...res }) + '\n');
    // Wait until signalled: forever in bare mode (the signal ends the process), until the abort otherwise.
    await new Promise<void>((resolve) => {
      const keepAlive = setInterval(() => {}, 1000);
      controller.signal.addEventListener('abort', () => {
        clearInterval(keepAlive);
        resolve();
      });
    });
  },
  { env: process.env },
);
process.exitCode = 130;

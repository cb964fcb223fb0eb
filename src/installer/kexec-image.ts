/**
 * A kexec image the operator supplies (issue 20, item 3): `--kexec-image FILE --kexec-sha256 HEX`.
 * nixos-anywhere uploads a local file given to --kexec over its ssh connection (`cat FILE | ssh …
 * 'cat > ~/kexec/kexec-tarball.tar.gz'`, nixos-anywhere.sh runKexec) instead of letting the target
 * download it, so a target without a route to GitHub can be installed, and the image that boots
 * is one whose hash was checked here. The script picks tar's decompression from the file name,
 * so the name must end in .tar, .tar.gz, .tar.xz or .tar.zst.
 *
 * The url and cache routes (the target downloads the image itself) are in kexec-route.ts.
 * Not covered: upstream's default image. The unmodified script pipes `curl`/`wget` straight into
 * `tar` on the target, so nothing can check its hash before it runs.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { failure, usageError } from '../errors.js';
import { KEXEC_IMAGE_NAME, parseKexecSha256, planKexecRoute, type KexecAnswers } from './kexec-route.js';

export { KEXEC_IMAGE_NAME, parseKexecSha256 };

/**
 * The answers' kexec route (kexec-route.ts planKexecRoute: flags that go together, the pin), then
 * for a local image what needs no reading of the file: a tarball name, the file there.
 */
export function checkKexecImageAnswers(a: KexecAnswers, where: string): void {
  const route = planKexecRoute(a, where);
  if (route?.from !== 'local') return;
  const file = route.file;
  if (!KEXEC_IMAGE_NAME.test(file)) throw usageError('bad-flag', `${where}: the kexec image "${file}" must end in .tar, .tar.gz, .tar.xz or .tar.zst`, 'nixos-anywhere picks the decompression from the file name');
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    /* missing */
  }
  if (!isFile) throw usageError('bad-flag', `${where}: the kexec image ${file} is not a file`, 'give the path of the nixos-kexec-installer tarball');
}

/** sha256 of a file, streamed (a kexec image is ~440 MB). */
export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The image's content must be the pinned one: refused otherwise, before anything boots it.
 * @throws failure 'kexec-image-mismatch'
 */
export async function runVerifyKexecImage(path: string, pinned: string): Promise<void> {
  const want = parseKexecSha256(pinned);
  const got = await hashFile(path);
  if (got !== want) {
    throw failure('kexec-image-mismatch', `the kexec image ${path} has sha256 ${got}, not the pinned ${want}; nothing was booted`, 'the file changed or is not the image you pinned: fetch it again from a source you trust, check it, and pin its hash with --kexec-sha256');
  }
}

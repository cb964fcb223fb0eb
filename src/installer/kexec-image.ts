/**
 * A kexec image the operator supplies (issue 20, item 3): `--kexec-image FILE --kexec-sha256 HEX`.
 * nixos-anywhere uploads a local file given to --kexec over its ssh connection (`cat FILE | ssh …
 * 'cat > ~/kexec/kexec-tarball.tar.gz'`, nixos-anywhere.sh runKexec) instead of letting the target
 * download it, so a target without a route to GitHub can be installed, and the image that boots
 * is one whose hash was checked here. The script picks tar's decompression from the file name,
 * so the name must end in .tar, .tar.gz, .tar.xz or .tar.zst.
 *
 * Not covered: the default image. The unmodified script pipes `curl`/`wget` straight into `tar`
 * on the target, so nothing can check its hash before it runs.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { failure, usageError } from '../errors.js';

export const KEXEC_IMAGE_NAME = /\.tar(\.gz|\.xz|\.zst)?$/;
const SHA256 = /^(sha256:)?([0-9a-f]{64})$/i;

/** The hex digest of a --kexec-sha256 value ("sha256:" prefix allowed), or a usage error. Pure. */
export function parseKexecSha256(text: string, where = '--kexec-sha256'): string {
  const m = SHA256.exec(text.trim());
  if (!m) throw usageError('bad-flag', `${where} must be a SHA-256 in hex (64 characters), got "${text.slice(0, 80)}"`, 'compute it with `sha256sum FILE` from a copy you trust');
  return m[2]!.toLowerCase();
}

/** Checks that need no reading of the file: both given, a tarball name, the file there. */
export function checkKexecImageAnswers(a: { kexecImage?: string | undefined; kexecSha256?: string | undefined }, where: string): void {
  if (a.kexecImage === undefined && a.kexecSha256 === undefined) return;
  if (a.kexecImage === undefined) throw usageError('bad-flag', `${where}: --kexec-sha256 without --kexec-image`, 'give the image file with --kexec-image FILE');
  if (a.kexecSha256 === undefined) throw usageError('bad-flag', `${where}: --kexec-image without --kexec-sha256`, 'pin the image: --kexec-sha256 "$(sha256sum FILE | cut -d" " -f1)" from a copy you trust');
  parseKexecSha256(a.kexecSha256, where);
  if (!KEXEC_IMAGE_NAME.test(a.kexecImage)) throw usageError('bad-flag', `${where}: the kexec image "${a.kexecImage}" must end in .tar, .tar.gz, .tar.xz or .tar.zst`, 'nixos-anywhere picks the decompression from the file name');
  let isFile = false;
  try {
    isFile = statSync(a.kexecImage).isFile();
  } catch {
    /* missing */
  }
  if (!isFile) throw usageError('bad-flag', `${where}: the kexec image ${a.kexecImage} is not a file`, 'give the path of the nixos-kexec-installer tarball');
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

/**
 * How the kexec installer image reaches the target (issue 20, item 3): `--kexec-from local|url|cache`,
 * each pinned by --kexec-sha256. Pure: the answers check, the route, the script the target runs to
 * fetch and hash the image, and the small tarball handed to nixos-anywhere for url/cache.
 *
 * - local: the operator's file; nixos-anywhere uploads it (`--kexec FILE`), hashed here first.
 * - url / cache: the target downloads the image itself (an https/http URL, or a presigned GET of the
 *   fleet's S3 storage) into a file under its $HOME, and it is hashed ON THE TARGET before the
 *   installer is called. The unmodified nixos-anywhere.sh cannot be pointed at that file: for a
 *   --kexec value that is not a local file it runs `wget URL -O-` when the target has wget (GNU and
 *   busybox wget refuse file:// URLs) and `curl` only without wget, piped into `tar`. So it gets a
 *   local tarball of a few kilobytes instead (`--kexec FILE`, uploaded as today) whose
 *   kexec/run hashes the fetched image again, right before it unpacks and execs the image's own
 *   kexec/run: the image that boots is one whose sha256 was checked against the pin in the same
 *   process that boots it, and a different file stops there with both hashes named.
 */
import { usageError } from '../errors.js';

export const KEXEC_IMAGE_NAME = /\.tar(\.gz|\.xz|\.zst)?$/;
const SHA256 = /^(sha256:)?([0-9a-f]{64})$/i;

/** The hex digest of a --kexec-sha256 value ("sha256:" prefix allowed), or a usage error. Pure. */
export function parseKexecSha256(text: string, where = '--kexec-sha256'): string {
  const m = SHA256.exec(text.trim());
  if (!m) throw usageError('bad-flag', `${where} must be a SHA-256 in hex (64 characters), got "${text.slice(0, 80)}"`, 'compute it with `sha256sum FILE` from a copy you trust');
  return m[2]!.toLowerCase();
}


export const KEXEC_FROM = ['local', 'url', 'cache'] as const;
export type KexecFrom = (typeof KEXEC_FROM)[number];

export interface KexecAnswers {
  kexecFrom?: string | undefined;
  kexecImage?: string | undefined;
  kexecUrl?: string | undefined;
  kexecSha256?: string | undefined;
}

export type KexecRoute = { from: 'local'; file: string; sha256: string } | { from: 'url'; url: string; sha256: string } | { from: 'cache'; sha256: string };

const PIN_HINT = 'pin it: --kexec-sha256 "$(sha256sum FILE | cut -d" " -f1)" of a copy you trust';

export function parseKexecFrom(text: string): KexecFrom {
  const v = text.trim() as KexecFrom;
  if (!KEXEC_FROM.includes(v)) throw usageError('bad-flag', `--kexec-from must be local, url or cache, got "${text.slice(0, 40)}"`, 'local: --kexec-image FILE; url: --kexec-url URL; cache: the image put with `bootstrap cache kexec-image FILE`');
  return v;
}

/** An image URL the target may fetch: http(s), no credentials in it, a tarball name (tar picks the decompression by it). */
export function checkKexecUrl(url: string, where = '--kexec-url'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError('bad-flag', `${where} is not a URL: "${url.slice(0, 80)}"`, 'give the https URL of the nixos-kexec-installer tarball');
  }
  // http is allowed: the content is pinned and checked on the target, so the transport adds no trust.
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw usageError('bad-flag', `${where} must be an https:// (or http://) URL, got ${u.protocol}`, 'the target downloads it with curl or wget');
  if (u.username || u.password) throw usageError('bad-flag', `${where} must not carry a user or password`, 'put the image where the target can read it without credentials, or use --kexec-from cache');
  if (!KEXEC_IMAGE_NAME.test(u.pathname)) throw usageError('bad-flag', `${where}: the path of ${u.origin}${u.pathname} must end in .tar, .tar.gz, .tar.xz or .tar.zst`, 'the tarball is unpacked by its name');
  return url;
}

/**
 * The route the answers ask for, or undefined (upstream's default image, downloaded unverified by
 * the target). --kexec-image alone means local and --kexec-url alone means url. Checks everything
 * that needs no file or target; the local file itself is checked by checkKexecImageAnswers.
 */
export function planKexecRoute(a: KexecAnswers, where: string): KexecRoute | undefined {
  const from = a.kexecFrom !== undefined ? parseKexecFrom(a.kexecFrom) : a.kexecImage !== undefined ? 'local' : a.kexecUrl !== undefined ? 'url' : undefined;
  if (from === undefined) {
    if (a.kexecSha256 !== undefined) throw usageError('bad-flag', `${where}: --kexec-sha256 without an image`, 'give --kexec-image FILE, --kexec-url URL or --kexec-from cache with it');
    return undefined;
  }
  if (from !== 'local' && a.kexecImage !== undefined) throw usageError('bad-flag', `${where}: --kexec-image is for --kexec-from local, not ${from}`, 'drop --kexec-image, or use --kexec-from local');
  if (from !== 'url' && a.kexecUrl !== undefined) throw usageError('bad-flag', `${where}: --kexec-url is for --kexec-from url, not ${from}`, 'drop --kexec-url, or use --kexec-from url');
  if (from === 'local' && a.kexecImage === undefined) throw usageError('bad-flag', `${where}: --kexec-from local without --kexec-image`, 'give the image file with --kexec-image FILE');
  if (from === 'url' && a.kexecUrl === undefined) throw usageError('bad-flag', `${where}: --kexec-from url without --kexec-url`, 'give the image URL with --kexec-url URL');
  const given = from === 'local' ? '--kexec-image' : from === 'url' ? '--kexec-url' : '--kexec-from cache';
  if (a.kexecSha256 === undefined) throw usageError('bad-flag', `${where}: ${given} without --kexec-sha256`, from === 'cache' ? 'give the sha256 `bootstrap cache kexec-image FILE` printed: --kexec-sha256 HEX' : PIN_HINT);
  const sha256 = parseKexecSha256(a.kexecSha256, where);
  if (from === 'local') return { from, file: a.kexecImage!, sha256 };
  if (from === 'url') return { from, url: checkKexecUrl(a.kexecUrl!, where), sha256 };
  return { from, sha256 };
}

/** The object key of a kexec image in the fleet's storage: content-addressed, so a key names its content. */
export function kexecCacheKey(sha256: string): string {
  return `kexec-images/${sha256}.tar.gz`;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Marks on the fetch script's stdout (read by parseFetchOutput). */
export const FETCH_MARK = '@@nb-kexec';

/**
 * The script (sh, run over ssh with the URL as the first line of stdin, so a presigned URL is in no
 * argv on the target) that downloads the image into ~/.nixos-bootstrap-kexec/SHA.tar.gz and prints
 * its sha256 there. A file already there with the pinned hash is kept (a resumed run). Bounded:
 * curl --max-time / wget's read timeout, and the caller's exec deadline. Pure.
 */
export function buildFetchScript(sha256: string, maxSeconds: number): string {
  return [
    'set -u',
    'IFS= read -r url',
    'd="$HOME/.nixos-bootstrap-kexec"',
    `f="$d/${sha256}.tar.gz"`,
    `mark() { printf '${FETCH_MARK} %s\\n' "$*"; }`,
    'command -v sha256sum >/dev/null 2>&1 || { mark no-sha256sum; exit 0; }',
    'mkdir -p "$d" && chmod 700 "$d" || { mark no-space "$d"; exit 0; }',
    `if [ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = ${sha256} ]; then mark path "$f"; mark sha256 ${sha256}; mark kept; exit 0; fi`,
    'rm -f "$f.part"',
    'if command -v curl >/dev/null 2>&1; then',
    // curl reads the URL from a config on stdin (-K -): it stays out of the process list.
    `  printf 'url = "%s"\\n' "$(printf '%s' "$url" | sed 's/[\\\\"]/\\\\&/g')" | curl --fail -sS -L --connect-timeout 15 --max-time ${maxSeconds} -o "$f.part" -K - 2>"$d/fetch.err"`,
    'elif command -v wget >/dev/null 2>&1; then',
    `  printf '%s\\n' "$url" | wget -q -T 30 -O "$f.part" -i - 2>"$d/fetch.err"`,
    'else mark no-downloader; exit 0; fi',
    'rc=$?',
    'if [ "$rc" -ne 0 ]; then rm -f "$f.part"; mark failed "$rc" "$(head -c 300 "$d/fetch.err" | tr "\\n" " ")"; exit 0; fi',
    'got=$(sha256sum "$f.part" | cut -d\' \' -f1)',
    `if [ "$got" = ${sha256} ]; then mv -f "$f.part" "$f"; mark path "$f"; else rm -f "$f.part"; mark path "$f.part"; fi`,
    'mark sha256 "$got"',
    '',
  ].join('\n');
}

export type FetchOutcome =
  | { kind: 'fetched'; path: string; sha256: string; kept: boolean }
  | { kind: 'no-downloader' }
  | { kind: 'no-sha256sum' }
  | { kind: 'no-space'; dir: string }
  | { kind: 'failed'; code: string; error: string };

/** What the fetch script reported. Pure. */
export function parseFetchOutput(stdout: string): FetchOutcome | undefined {
  const marks = stdout
    .split('\n')
    .filter((l) => l.startsWith(`${FETCH_MARK} `))
    .map((l) => l.slice(FETCH_MARK.length + 1));
  const first = (w: string) => marks.find((m) => m === w || m.startsWith(`${w} `))?.slice(w.length + 1);
  if (marks.includes('no-downloader')) return { kind: 'no-downloader' };
  if (marks.includes('no-sha256sum')) return { kind: 'no-sha256sum' };
  const ns = first('no-space');
  if (ns !== undefined) return { kind: 'no-space', dir: ns };
  const failed = first('failed');
  if (failed !== undefined) {
    const [code = '?', ...rest] = failed.split(' ');
    return { kind: 'failed', code, error: rest.join(' ').trim() };
  }
  const path = first('path');
  const sha = first('sha256');
  if (path === undefined || sha === undefined) return undefined;
  return { kind: 'fetched', path, sha256: sha, kept: marks.includes('kept') };
}

/** tar's decompression flag for the image's name (as nixos-anywhere picks it). */
function decompressFlag(name: string): string {
  if (/\.tar\.gz$/.test(name)) return '--gzip';
  if (/\.tar\.xz$/.test(name)) return '--xz';
  if (/\.tar\.zst$/.test(name)) return '--zstd';
  return '';
}

/**
 * The kexec/run of the small tarball nixos-anywhere uploads for the url/cache routes: hash the
 * fetched image again, refuse a different one (no "machine will boot into nixos" line, so the
 * script reports the kexec as failed with this output), else unpack it beside and exec its run. Pure.
 */
export function buildKexecRunShim(imagePath: string, sha256: string): string {
  return [
    '#!/bin/sh',
    '# nixos-bootstrap (src/installer/kexec-route.ts): boots the kexec image this machine downloaded,',
    '# only when its sha256 is the pinned one.',
    'set -eu',
    `img=${q(imagePath)}`,
    `want=${sha256}`,
    "got=$(sha256sum \"$img\" | cut -d' ' -f1)",
    'if [ "$got" != "$want" ]; then',
    '  echo "nixos-bootstrap: the kexec image $img has sha256 $got, not the pinned $want; nothing was booted" >&2',
    '  exit 1',
    'fi',
    'dir=$(dirname "$img")/image',
    'rm -rf "$dir" && mkdir -p "$dir"',
    `tar -x ${decompressFlag(imagePath)} -f "$img" -C "$dir"`,
    'exec "$dir/kexec/run" "$@"',
    '',
  ].join('\n');
}

/** A ustar archive of regular files (mode, content), enough for `tar -x` of GNU tar and busybox. Pure. */
export function buildTar(files: ReadonlyArray<{ name: string; mode: number; content: string | Buffer }>, mtime = 0): Buffer {
  const blocks: Buffer[] = [];
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';
  const entry = (name: string, mode: number, type: '0' | '5', body: Buffer) => {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write(octal(mode, 8), 100);
    h.write(octal(0, 8), 108);
    h.write(octal(0, 8), 116);
    h.write(octal(body.length, 12), 124);
    h.write(octal(mtime, 12), 136);
    h.write('        ', 148);
    h.write(type, 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7) + ' ', 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  };
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = `${parts.slice(0, i).join('/')}/`;
      if (!dirs.has(d)) {
        dirs.add(d);
        entry(d, 0o755, '5', Buffer.alloc(0));
      }
    }
    entry(f.name, f.mode, '0', Buffer.from(f.content));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** The small tarball for nixos-anywhere --kexec (a .tar: no decompression needed on the target). Pure. */
export function buildKexecShimTar(imagePath: string, sha256: string): Buffer {
  return buildTar([{ name: 'kexec/run', mode: 0o755, content: buildKexecRunShim(imagePath, sha256) }]);
}

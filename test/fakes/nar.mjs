// Nix archives (NAR) and the bits of the binary cache format the fakes need, from Nix's own
// definitions: the NAR serialisation (src/libutil/archive.cc: "nix-archive-1", padded strings,
// `( type regular|directory|symlink … )`, entries in name order), Nix's base-32 (libutil/hash.cc,
// alphabet 0123456789abcdfghijklmnpqrsvwxyz, least significant 5 bits last) and the signature
// fingerprint of a path (libstore/path-info.cc: `1;PATH;NARHASH;NARSIZE;REF,REF`). Plain JS: the
// fake `attic` CLI and the target-side substituter run it with node, without a TS loader.
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function str(s) {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b, Buffer.alloc((8 - (b.length % 8)) % 8)]);
}

function dumpNode(path, out) {
  const st = lstatSync(path);
  out.push(str('('), str('type'));
  if (st.isSymbolicLink()) out.push(str('symlink'), str('target'), str(readlinkSync(path)));
  else if (st.isDirectory()) {
    out.push(str('directory'));
    for (const name of readdirSync(path).sort()) {
      out.push(str('entry'), str('('), str('name'), str(name), str('node'));
      dumpNode(join(path, name), out);
      out.push(str(')'));
    }
  } else {
    out.push(str('regular'));
    if (st.mode & 0o100) out.push(str('executable'), str(''));
    out.push(str('contents'), str(readFileSync(path)));
  }
  out.push(str(')'));
}

/** The NAR of a file, directory or symlink. */
export function dumpNar(path) {
  const out = [str('nix-archive-1')];
  dumpNode(path, out);
  return Buffer.concat(out);
}

/** Unpack a NAR at `dest` (which must not exist). Throws on anything that is not a NAR. */
export function restoreNar(nar, dest) {
  let pos = 0;
  const read = () => {
    if (pos + 8 > nar.length) throw new Error('NAR: truncated');
    const n = Number(nar.readBigUInt64LE(pos));
    pos += 8;
    const s = nar.subarray(pos, pos + n);
    pos += n + ((8 - (n % 8)) % 8);
    if (pos > nar.length) throw new Error('NAR: truncated');
    return s;
  };
  const expect = (w) => {
    const got = read().toString();
    if (got !== w) throw new Error(`NAR: expected "${w}", got "${got.slice(0, 40)}"`);
  };
  const node = (path) => {
    expect('(');
    expect('type');
    const type = read().toString();
    if (type === 'symlink') {
      expect('target');
      symlinkSync(read().toString(), path);
    } else if (type === 'directory') {
      mkdirSync(path);
      for (;;) {
        const w = read().toString();
        if (w === ')') return;
        if (w !== 'entry') throw new Error(`NAR: expected entry, got ${w}`);
        expect('(');
        expect('name');
        const name = read().toString();
        if (!name || name.includes('/') || name === '.' || name === '..') throw new Error(`NAR: bad entry name ${name}`);
        expect('node');
        node(join(path, name));
        expect(')');
      }
    } else if (type === 'regular') {
      let w = read().toString();
      let exec = false;
      if (w === 'executable') {
        expect('');
        exec = true;
        w = read().toString();
      }
      if (w !== 'contents') throw new Error(`NAR: expected contents, got ${w}`);
      writeFileSync(path, read());
      chmodSync(path, exec ? 0o555 : 0o444);
    } else throw new Error(`NAR: unknown type ${type}`);
    expect(')');
  };
  expect('nix-archive-1');
  node(dest);
  if (pos !== nar.length) throw new Error('NAR: trailing data');
}

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** Nix's base-32 of a digest. */
export function nix32(bytes) {
  const len = Math.ceil((bytes.length * 8) / 5);
  let s = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const c = (bytes[i] >> j) | (i >= bytes.length - 1 ? 0 : bytes[i + 1] << (8 - j));
    s += NIX32[c & 0x1f];
  }
  return s;
}

/** "sha256:NIX32" of a NAR, as narinfo's NarHash writes it. */
export function narHashNix32(nar) {
  return `sha256:${nix32(createHash('sha256').update(nar).digest())}`;
}

/** What a path's signature signs. */
export function fingerprint(storePath, narHash, narSize, references) {
  return `1;${storePath};${narHash};${narSize};${references.join(',')}`;
}

/** The 32-character hash part of a store path's base name. */
export function storePathHash(storePath) {
  const m = /^([0-9a-df-np-sv-z]{32})-/.exec(storePath.split('/').pop() ?? '');
  if (!m) throw new Error(`not a store path: ${storePath}`);
  return m[1];
}

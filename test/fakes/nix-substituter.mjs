// FAKE destination side of `nix copy --substitute-on-destination` (run by test/fakes/nix on the
// target over ssh, as real nix runs `nix-store --serve` there and asks it to substitute): for each
// PATH not yet under ROOT it asks the substituters of the TARGET's own configuration
// (/etc/nix/nix.conf, then ~/.config/nix/nix.conf: substituters / extra-substituters, trusted-public-keys /
// extra-trusted-public-keys, netrc-file), as Nix's binary cache substituter does: HASH.narinfo
// (netrc credentials as HTTP basic auth), a signature by a trusted key over the path's fingerprint
// (ed25519), the NAR at its URL with NarHash and NarSize checked, unpacked at ROOT/PATH.
// Prints the paths it could not substitute (the caller streams those); nix's own messages on stderr.
//   node nix-substituter.mjs ROOT PATH…
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fingerprint, narHashNix32, restoreNar, storePathHash } from './nar.mjs';

const [root, ...paths] = process.argv.slice(2);
if (root === undefined) {
  process.stderr.write('nix-substituter: ROOT PATH…\n');
  process.exit(2);
}
const conf = { substituters: [], keys: [], netrc: undefined, connectTimeout: 0 };
// Nix reads $NIX_CONF_DIR/nix.conf (/etc/nix: what an installed NixOS host's nix.settings write),
// then the user's; a plain setting replaces what came before, extra- appends (libutil/config.cc).
const confFiles = [join(process.env.NIX_CONF_DIR || '/etc/nix', 'nix.conf'), join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'nix', 'nix.conf')];
for (const confFile of confFiles) {
  if (!existsSync(confFile)) continue;
  for (const line of readFileSync(confFile, 'utf8').split('\n')) {
    const m = /^\s*([a-z-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    const values = m[2].split(/\s+/).filter(Boolean);
    if (m[1] === 'substituters') conf.substituters = values;
    else if (m[1] === 'extra-substituters') conf.substituters.push(...values);
    else if (m[1] === 'trusted-public-keys') conf.keys = values;
    else if (m[1] === 'extra-trusted-public-keys') conf.keys.push(...values);
    else if (m[1] === 'netrc-file') conf.netrc = m[2];
    else if (m[1] === 'connect-timeout') conf.connectTimeout = Number(m[2]);
    else {
      process.stderr.write(`warning: unknown setting '${m[1]}'\n`);
    }
  }
}
const trusted = new Map(conf.keys.map((k) => {
  const [name, b64] = k.split(':');
  return [name, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(b64, 'base64').toString('base64url') }, format: 'jwk' })];
}));
const netrc = new Map();
if (conf.netrc && existsSync(conf.netrc)) {
  const words = readFileSync(conf.netrc, 'utf8').split(/\s+/).filter(Boolean);
  let machine;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'machine') machine = { login: '', password: '' }, netrc.set(words[++i], machine);
    else if (machine && (words[i] === 'login' || words[i] === 'password')) machine[words[i]] = words[++i];
  }
}
const get = async (url) => {
  const m = netrc.get(new URL(url).hostname);
  const res = await fetch(url, {
    ...(m ? { headers: { authorization: `Basic ${Buffer.from(`${m.login}:${m.password}`).toString('base64')}` } } : {}),
    ...(conf.connectTimeout > 0 ? { signal: AbortSignal.timeout(conf.connectTimeout * 1000) } : {}),
  });
  if (!res.ok) return { status: res.status };
  return { status: 200, body: Buffer.from(await res.arrayBuffer()) };
};

const missing = [];
for (const path of paths) {
  const dest = `${root}${path}`;
  if (existsSync(dest)) continue;
  let done = false;
  for (const sub of conf.substituters) {
    try {
      const base = sub.endsWith('/') ? sub : `${sub}/`;
      const ni = await get(`${base}${storePathHash(path)}.narinfo`);
      if (ni.status !== 200) continue;
      const f = Object.fromEntries(ni.body.toString().split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
      if (f.StorePath !== path) throw new Error(`narinfo is for ${f.StorePath}`);
      const refs = (f.References ?? '').split(' ').filter(Boolean).map((r) => join(dirname(path), r));
      const [keyName, sig] = (f.Sig ?? '').split(':');
      const key = trusted.get(keyName);
      if (!key || !verify(null, Buffer.from(fingerprint(path, f.NarHash, Number(f.NarSize), refs)), key, Buffer.from(sig ?? '', 'base64'))) {
        process.stderr.write(`warning: substituter '${sub}' does not have a valid signature for path '${path}'\n`);
        continue;
      }
      if (f.Compression !== 'none') throw new Error(`unsupported compression ${f.Compression}`);
      const nar = await get(new URL(f.URL, base).href);
      if (nar.status !== 200) throw new Error(`NAR: HTTP ${nar.status}`);
      if (nar.body.length !== Number(f.NarSize) || narHashNix32(nar.body) !== f.NarHash) throw new Error(`hash mismatch in NAR of '${path}'`);
      process.stderr.write(`copying path '${path}' from '${sub}'...\n`);
      mkdirSync(dirname(dest), { recursive: true });
      const tmp = `${dest}.tmp-subst`;
      rmSync(tmp, { recursive: true, force: true });
      restoreNar(nar.body, tmp);
      renameSync(tmp, dest);
      done = true;
      break;
    } catch (e) {
      process.stderr.write(`warning: substituter '${sub}': ${e.message}\n`);
    }
  }
  if (!done) missing.push(path);
}
process.stdout.write(missing.map((p) => `${p}\n`).join(''));

// FAKE attic client for the tests: `attic push` only, built from attic's CLI source
// (client/src/command/push.rs, client/src/push.rs, client/src/config.rs, client/src/api/mod.rs)
// and REALLY uploading over HTTP to the server it is configured for (test/fakes/attic-server.ts):
//   attic push [--no-closure] [--ignore-upstream-cache-filter] [-j N|--jobs N] [SERVER:]CACHE PATH…
// Config: $XDG_CONFIG_HOME/attic/config.toml (else ~/.config/attic/config.toml): default-server,
// [servers.NAME] endpoint and token or token-file. The flow is attic's: GET cache-config (its
// api_endpoint wins), the closure of the paths, minus those signed by an upstream cache key, POST
// get-missing-paths, then one PUT upload-path per missing path (X-Attic-Nar-Info, body the NAR,
// nar_hash "sha256:" + hex). The Nix store is the fake one ($FAKE_NIX_STORE, what test/fakes/nix
// builds into): its paths have no references, so a path's closure is the path. STRICT: any other
// subcommand or flag exits 2 as clap would; a path outside the store exits 1.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { dumpNar, storePathHash } from './nar.mjs';

const die = (msg, code = 1) => {
  process.stderr.write(`Error: ${msg}\n`);
  process.exit(code);
};
const args = process.argv.slice(2);
if (args[0] !== 'push') die(`fake attic: unsupported call: ${args.join(' ')}`, 2);
const pos = [];
for (let i = 1; i < args.length; i++) {
  const a = args[i];
  if (a === '--no-closure' || a === '--ignore-upstream-cache-filter') continue;
  if (a === '-j' || a === '--jobs') {
    if (!/^[1-9][0-9]*$/.test(args[++i] ?? '')) die('The number of jobs cannot be 0', 2);
    continue;
  }
  if (a.startsWith('-')) die(`unexpected argument '${a}' found`, 2);
  pos.push(a);
}
const [cacheRef, ...paths] = pos;
if (!cacheRef) die("the following required arguments were not provided:\n  <CACHE>", 2);

const configPath = join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'attic', 'config.toml');
if (!existsSync(configPath)) die('No servers are configured. Use `attic login` to configure one.');
const config = parse(readFileSync(configPath, 'utf8'));
let serverName;
let cache = cacheRef;
if (cacheRef.includes(':')) [serverName, cache] = cacheRef.split(':', 2);
else serverName = config['default-server'];
const server = config.servers?.[serverName];
if (!server) die(`Server "${serverName}" does not exist`);
if (!/^[A-Za-z0-9][A-Za-z0-9_+-]{0,49}$/.test(cache)) die(`Invalid cache name "${cache}"`);
const token = typeof server.token === 'string' ? server.token : typeof server['token-file'] === 'string' ? readFileSync(server['token-file'], 'utf8').trim() : undefined;
const headers = { 'user-agent': 'attic 0.1.0 (fake)', ...(token ? { authorization: `bearer ${token}` } : {}) };
let endpoint = new URL(server.endpoint.endsWith('/') ? server.endpoint : `${server.endpoint}/`);

const api = async (method, path, body, extra = {}) => {
  const res = await fetch(new URL(path, endpoint), { method, headers: { ...headers, ...extra }, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  if (!res.ok) {
    let e;
    try {
      e = JSON.parse(text);
    } catch {
      e = { error: 'Unknown', message: text };
    }
    die(`${e.error} (${res.status}): ${e.message ?? ''}`);
  }
  return text ? JSON.parse(text) : null;
};

const store = process.env.FAKE_NIX_STORE ? realpathSync(process.env.FAKE_NIX_STORE) : die('fake attic: FAKE_NIX_STORE (the Nix store) is not set');
const roots = paths.map((p) => {
  const full = existsSync(p) ? realpathSync(p) : p;
  if (!full.startsWith(`${store}/`) || full.slice(store.length + 1).includes('/') || !existsSync(full)) die(`"${p}" is not a valid store path`);
  return full;
});
if (!roots.length) {
  process.stderr.write('🤷 Nothing specified.\n');
  process.exit(0);
}
const cacheConfig = await api('GET', `_api/v1/cache-config/${cache}`);
if (cacheConfig.api_endpoint) endpoint = new URL(cacheConfig.api_endpoint);
const closure = [...new Set(roots)]; // the fake store's paths have no references
const byHash = new Map(closure.map((p) => [storePathHash(p), p]));
const { missing_paths: missing } = await api('POST', '_api/v1/get-missing-paths', JSON.stringify({ cache, store_path_hashes: [...byHash.keys()] }), { 'content-type': 'application/json' });
const already = closure.length - missing.length;
if (!missing.length) {
  process.stderr.write(`✅ All done! (${already} already cached, 0 in upstream)\n`);
  process.exit(0);
}
process.stderr.write(`⚙️ Pushing ${missing.length} paths to "${cache}" on "${serverName}" (${already} already cached, 0 in upstream)...\n`);
for (const hash of missing) {
  const path = byHash.get(hash);
  const nar = dumpNar(path);
  const { createHash } = await import('node:crypto');
  const info = { cache, store_path_hash: hash, store_path: path, references: [], system: null, deriver: null, sigs: [], ca: null, nar_hash: `sha256:${createHash('sha256').update(nar).digest('hex')}`, nar_size: nar.length };
  await api('PUT', '_api/v1/upload-path', nar, { 'x-attic-nar-info': JSON.stringify(info), 'content-type': 'application/octet-stream' });
  process.stderr.write(`✅ ${path} (${nar.length} bytes)\n`);
}

/**
 * A FAKE atticd, from attic's API (attic/src/api/v1/*.rs, server/src/api/binary_cache.rs):
 *   GET/POST/PATCH /_api/v1/cache-config/NAME      what `bootstrap cache create` calls
 *   POST /_api/v1/get-missing-paths                 `attic push` (needs push: "w")
 *   PUT  /_api/v1/upload-path                       `attic push`: X-Attic-Nar-Info (or the preamble) +
 *                                                   the NAR; the NAR's sha256 and size are checked
 *   GET  /NAME/nix-cache-info, /NAME/HASH.narinfo, /NAME/nar/HASH.nar   the Nix binary cache (pull:
 *                                                   "r", or a public cache), narinfo signed with
 *                                                   the cache's ed25519 key as atticd signs it
 * Like atticd it verifies the token's RS256 signature with jose against the server's public key
 * (Bearer, or Basic with the token as password: how Nix sends a netrc entry) and checks the
 * https://jwt.attic.rs/v1 per-cache permissions. It listens on 127.0.0.1 unless given `host` (the
 * installer lab's bridge address, so namespace targets reach it).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { jwtVerify } from 'jose';

interface FakeObject {
  storePath: string;
  references: string[];
  narHash: string;
  narSize: number;
  nar: Buffer;
}

interface FakeCache {
  isPublic: boolean;
  /** "NAME:BASE64", the Nix public key of the cache's ed25519 signing key. */
  publicKey: string;
  signingKey: KeyObject;
  objects: Map<string, FakeObject>;
}

export interface AtticFake {
  url: string;
  caches: Map<string, FakeCache>;
  /** Every request: method, cache, the subject of its token, the outcome status, what (the API call) and bytes of the body in/out. */
  log: Array<{ method: string; cache: string; sub?: string; status: number; what?: string; bytesIn?: number; bytesOut?: number }>;
  close(): Promise<void>;
}

type Perms = Record<string, Record<string, number>>;

function permsFor(caches: Perms, name: string): Record<string, number> {
  // attic matches patterns with a trailing "*" wildcard.
  for (const [pattern, p] of Object.entries(caches)) {
    if (pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)))) return p;
  }
  return {};
}

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
function nix32(bytes: Buffer): string {
  let s = '';
  for (let n = Math.ceil((bytes.length * 8) / 5) - 1; n >= 0; n--) {
    const i = Math.floor((n * 5) / 8);
    const j = (n * 5) % 8;
    s += NIX32[((bytes[i]! >> j) | (i >= bytes.length - 1 ? 0 : bytes[i + 1]! << (8 - j))) & 0x1f];
  }
  return s;
}

function newCacheKey(name: string): { publicKey: string; signingKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { publicKey: `${name}:${raw.toString('base64')}`, signingKey: createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })) };
}

const HASH = /^[0-9a-df-np-sv-z]{32}$/;

/**
 * `substituterBase`: what cache-config answers as substituter_endpoint's base (atticd's
 * substituter-endpoint setting), default the fake's own URL.
 */
export async function startAtticFake(publicKeyPem: string, opts: { substituterBase?: string; host?: string } = {}): Promise<AtticFake> {
  const key = createPublicKey(publicKeyPem);
  const caches = new Map<string, FakeCache>();
  const log: AtticFake['log'] = [];
  let url = '';

  const authorize = async (req: IncomingMessage, name: string): Promise<{ perms: Record<string, number>; sub?: string } | 'bad' | 'none'> => {
    const h = req.headers.authorization ?? '';
    let token: string | undefined = /^bearer (.+)$/i.exec(h)?.[1];
    const basic = /^basic (.+)$/i.exec(h)?.[1];
    if (!token && basic) token = Buffer.from(basic, 'base64').toString().split(':').slice(1).join(':');
    if (!token) return 'none';
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['RS256'] });
      if (typeof payload.exp !== 'number') throw new Error('no exp');
      return { perms: permsFor(((payload['https://jwt.attic.rs/v1'] as { caches?: Perms } | undefined)?.caches) ?? {}, name), ...(payload.sub ? { sub: payload.sub } : {}) };
    } catch {
      return 'bad';
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? '').split('?')[0]!;
      let cacheName = '';
      let what = '';
      let sub: string | undefined;
      const reply = (status: number, body: unknown, type = 'application/json') => {
        const out = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body as string) : Buffer.from(JSON.stringify(body));
        log.push({ method: req.method ?? '', cache: cacheName, ...(sub ? { sub } : {}), status, ...(what ? { what, bytesIn: raw.length, bytesOut: out.length } : {}) });
        res.writeHead(status, { 'content-type': type, 'content-length': out.length });
        res.end(out);
      };
      const err = (status: number, error: string, message = '') => reply(status, { code: status, error, message });
      // Which call, and for which cache.
      const config = /^\/_api\/v1\/cache-config\/([A-Za-z0-9._+-]+)$/.exec(path);
      const cacheFile = /^\/([A-Za-z0-9_+-]+)\/(nix-cache-info|([0-9a-z]{32})\.narinfo|nar\/([0-9a-z]{32})\.nar)$/.exec(path);
      let json: Record<string, unknown> | undefined;
      if (config) cacheName = config[1]!;
      else if (cacheFile) [cacheName, what] = [cacheFile[1]!, cacheFile[2]!.startsWith('nar/') ? 'nar' : cacheFile[2]!.endsWith('.narinfo') ? 'narinfo' : 'nix-cache-info'];
      else if (path === '/_api/v1/get-missing-paths' && req.method === 'POST') {
        what = 'get-missing-paths';
        try {
          json = JSON.parse(raw.toString()) as Record<string, unknown>;
        } catch {
          return err(400, 'RequestError', 'bad JSON');
        }
        cacheName = String(json.cache ?? '');
      } else if (path === '/_api/v1/upload-path' && req.method === 'PUT') {
        what = 'upload-path';
        const pre = req.headers['x-attic-nar-info-preamble-size'];
        try {
          json = JSON.parse(pre ? raw.subarray(0, Number(pre)).toString() : String(req.headers['x-attic-nar-info'] ?? '')) as Record<string, unknown>;
        } catch {
          return err(400, 'RequestError', 'no or bad X-Attic-Nar-Info');
        }
        cacheName = String(json.cache ?? '');
      } else return err(404, 'NotFound', 'not found');

      const auth = await authorize(req, cacheName);
      if (auth === 'bad') return err(401, 'Unauthorized', 'bad token');
      const perms = auth === 'none' ? {} : auth.perms;
      sub = auth === 'none' ? undefined : auth.sub;
      const need = (p: string) => perms[p] === 1;
      const cache = caches.get(cacheName);

      if (config && req.method === 'POST') {
        if (auth === 'none') return err(401, 'Unauthorized', 'no token');
        if (!need('cc')) return err(403, 'PermissionDenied', 'cc');
        if (cache) return err(400, 'CacheAlreadyExists', 'The cache already exists.');
        const request = JSON.parse(raw.toString()) as { keypair?: unknown; is_public?: unknown; store_dir?: unknown; priority?: unknown; upstream_cache_key_names?: unknown };
        if (request.keypair !== 'Generate' || typeof request.is_public !== 'boolean' || request.store_dir !== '/nix/store' || typeof request.priority !== 'number' || !Array.isArray(request.upstream_cache_key_names)) {
          return err(400, 'RequestError', 'bad CreateCacheRequest');
        }
        caches.set(cacheName, { isPublic: request.is_public, ...newCacheKey(cacheName), objects: new Map() });
        return reply(200, null);
      }
      if (!cache) return err(404, 'NoSuchCache', 'no such cache');
      const canPull = need('r') || cache.isPublic;
      if (config && req.method === 'PATCH') {
        if (!need('cr')) return err(403, 'PermissionDenied', 'cr');
        const patch = JSON.parse(raw.toString()) as { is_public?: boolean };
        if (typeof patch.is_public === 'boolean') cache.isPublic = patch.is_public;
        return reply(200, null);
      }
      if (config && req.method === 'GET') {
        if (auth === 'none') return err(401, 'Unauthorized', 'no token');
        if (!canPull) return err(403, 'PermissionDenied', 'r');
        return reply(200, { substituter_endpoint: `${opts.substituterBase ?? url}${cacheName}`, api_endpoint: url, public_key: cache.publicKey, is_public: cache.isPublic, store_dir: '/nix/store', priority: 41, upstream_cache_key_names: ['cache.nixos.org-1'] });
      }
      if (what === 'get-missing-paths') {
        if (!need('w')) return err(403, 'PermissionDenied', 'w'); // attic: "requires push permission as it allows probing"
        const hashes = json!.store_path_hashes;
        if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === 'string' && HASH.test(h))) return err(400, 'RequestError', 'bad store_path_hashes');
        return reply(200, { missing_paths: hashes.filter((h: string) => !cache.objects.has(h)) });
      }
      if (what === 'upload-path') {
        if (!need('w')) return err(403, 'PermissionDenied', 'w');
        const info = json!;
        const nar = req.headers['x-attic-nar-info-preamble-size'] ? raw.subarray(Number(req.headers['x-attic-nar-info-preamble-size'])) : raw;
        const storePath = String(info.store_path ?? '');
        const hash = String(info.store_path_hash ?? '');
        if (!HASH.test(hash) || !storePath.split('/').pop()!.startsWith(`${hash}-`)) return err(400, 'RequestError', 'store_path_hash does not match store_path');
        if (!Array.isArray(info.references) || !Array.isArray(info.sigs)) return err(400, 'RequestError', 'bad UploadPathNarInfo');
        const digest = createHash('sha256').update(nar).digest();
        // atticd: "the server always validates the supplied hash" (sha256: + 64 hex).
        if (info.nar_hash !== `sha256:${digest.toString('hex')}` || info.nar_size !== nar.length) return err(400, 'RequestError', 'NAR hash or size mismatch');
        cache.objects.set(hash, { storePath, references: info.references as string[], narHash: `sha256:${nix32(digest)}`, narSize: nar.length, nar });
        return reply(200, { kind: 'Uploaded', file_size: nar.length, frac_deduplicated: 0 });
      }
      if (req.method !== 'GET') return err(405, 'MethodNotAllowed');
      if (!canPull) return auth === 'none' ? err(401, 'Unauthorized', 'no token') : err(403, 'PermissionDenied', 'r');
      if (what === 'nix-cache-info') return reply(200, 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n', 'text/x-nix-cache-info');
      const obj = cache.objects.get(cacheFile![3] ?? cacheFile![4]!);
      if (!obj) return err(404, 'NoSuchObject', 'no such object');
      if (what === 'nar') return reply(200, obj.nar, 'application/x-nix-nar');
      const fp = `1;${obj.storePath};${obj.narHash};${obj.narSize};${obj.references.join(',')}`;
      const sig = `${cache.publicKey.split(':')[0]}:${sign(null, Buffer.from(fp), cache.signingKey).toString('base64')}`;
      const narinfo = [
        `StorePath: ${obj.storePath}`, `URL: nar/${cacheFile![3]}.nar`, 'Compression: none', `NarHash: ${obj.narHash}`, `NarSize: ${obj.narSize}`,
        `References: ${obj.references.map((r) => r.split('/').pop()).join(' ')}`, `Sig: ${sig}`, '',
      ].join('\n');
      return reply(200, narinfo, 'text/x-nix-narinfo');
    });
  });
  await new Promise<void>((r) => server.listen(0, opts.host ?? '127.0.0.1', () => r()));
  const addr = server.address();
  url = `http://${opts.host ?? '127.0.0.1'}:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  return {
    url, caches, log,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

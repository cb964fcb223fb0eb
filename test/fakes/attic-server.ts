/**
 * A FAKE atticd: only the endpoints bootstrap calls (GET/POST/PATCH /_api/v1/cache-config/NAME),
 * on 127.0.0.1. Like atticd it verifies the bearer token's RS256 signature with jose against the
 * server's public key and checks the https://jwt.attic.rs/v1 per-cache permissions.
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { jwtVerify } from 'jose';

interface FakeCache {
  isPublic: boolean;
  publicKey: string;
}

export interface AtticFake {
  url: string;
  caches: Map<string, FakeCache>;
  /** Every request: method, cache, the subject of its token and the outcome status. */
  log: Array<{ method: string; cache: string; sub?: string; status: number }>;
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

/**
 * `substituterBase`: what cache-config answers as substituter_endpoint's base (atticd's
 * substituter-endpoint setting), default the fake's own URL.
 */
export async function startAtticFake(publicKeyPem: string, opts: { substituterBase?: string } = {}): Promise<AtticFake> {
  const key = createPublicKey(publicKeyPem);
  const caches = new Map<string, FakeCache>();
  const log: AtticFake['log'] = [];
  let url = '';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', async () => {
      const m = /^\/_api\/v1\/cache-config\/([A-Za-z0-9._+-]+)$/.exec(req.url ?? '');
      const send = (status: number, json: unknown, sub?: string) => {
        log.push({ method: req.method ?? '', cache: m?.[1] ?? '', ...(sub ? { sub } : {}), status });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (!m) return send(404, { code: 404, error: 'NotFound', message: 'not found' });
      const name = m[1]!;
      const auth = /^bearer (.+)$/i.exec(req.headers.authorization ?? '');
      if (!auth) return send(401, { code: 401, error: 'Unauthorized', message: 'no token' });
      let perms: Record<string, number>;
      let sub: string | undefined;
      try {
        const { payload } = await jwtVerify(auth[1]!, key, { algorithms: ['RS256'] });
        sub = payload.sub;
        if (typeof payload.exp !== 'number') throw new Error('no exp');
        perms = permsFor(((payload['https://jwt.attic.rs/v1'] as { caches?: Perms } | undefined)?.caches) ?? {}, name);
      } catch {
        return send(401, { code: 401, error: 'Unauthorized', message: 'bad token' });
      }
      const need = (p: string) => perms[p] === 1;
      const cache = caches.get(name);
      if (req.method === 'POST') {
        if (!need('cc')) return send(403, { code: 403, error: 'PermissionDenied', message: 'cc' }, sub);
        if (cache) return send(400, { code: 400, error: 'CacheAlreadyExists', message: 'The cache already exists.' }, sub);
        const request = JSON.parse(body) as { keypair?: unknown; is_public?: unknown; store_dir?: unknown; priority?: unknown; upstream_cache_key_names?: unknown };
        if (request.keypair !== 'Generate' || typeof request.is_public !== 'boolean' || request.store_dir !== '/nix/store' || typeof request.priority !== 'number' || !Array.isArray(request.upstream_cache_key_names)) {
          return send(400, { code: 400, error: 'RequestError', message: 'bad CreateCacheRequest' }, sub);
        }
        const pk = createHash('sha256').update(randomBytes(32)).digest('base64');
        caches.set(name, { isPublic: request.is_public, publicKey: `${name}:${pk}` });
        return send(200, null, sub);
      }
      if (!cache) return send(404, { code: 404, error: 'NoSuchCache', message: 'no such cache' }, sub);
      if (req.method === 'PATCH') {
        if (!need('cr')) return send(403, { code: 403, error: 'PermissionDenied', message: 'cr' }, sub);
        const patch = JSON.parse(body) as { is_public?: boolean };
        if (typeof patch.is_public === 'boolean') cache.isPublic = patch.is_public;
        return send(200, null, sub);
      }
      if (req.method === 'GET') {
        if (!need('r') && !cache.isPublic) return send(403, { code: 403, error: 'PermissionDenied', message: 'r' }, sub);
        return send(200, { substituter_endpoint: `${opts.substituterBase ?? url}${name}`, api_endpoint: url, public_key: cache.publicKey, is_public: cache.isPublic, store_dir: '/nix/store', priority: 41, upstream_cache_key_names: ['cache.nixos.org-1'] }, sub);
      }
      return send(405, { code: 405, error: 'MethodNotAllowed', message: '' }, sub);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  return {
    url, caches, log,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/**
 * The two attic HTTP calls we make, as attic's own client makes them
 * (client/src/api/mod.rs): POST /_api/v1/cache-config/NAME to create a cache (400
 * CacheAlreadyExists means it is there: success, then PATCH its visibility), GET the same path
 * to read its public key.
 */
import { failure, quote, usageError } from '../errors.js';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

export interface CacheInfo {
  created: boolean;
  publicKey: string;
  substituterEndpoint: string;
  apiEndpoint: string | undefined;
  isPublic: boolean | undefined;
}

/**
 * attic's own rule (attic/src/cache.rs, CACHE_NAME_REGEX `^[A-Za-z0-9][A-Za-z0-9-_+]{0,49}$`,
 * checked by both atticd and the attic client): 1-50 ASCII letters, digits, "-", "_" and "+",
 * starting with a letter or digit. No ".": atticd refuses `my.cache` with InvalidCacheName.
 */
export const CACHE_NAME = /^[A-Za-z0-9][A-Za-z0-9_+-]{0,49}$/;

/** The name when attic would accept it; a usage error naming attic's rule otherwise. */
export function checkCacheName(name: string): string {
  if (!CACHE_NAME.test(name)) {
    throw usageError('bad-cache-name', `${quote(name)} is not a valid attic cache name`, 'use 1-50 letters, digits, "-", "_" and "+", starting with a letter or digit (attic\'s rule), e.g. main or team+main');
  }
  return name;
}

export function cacheConfigUrl(serverUrl: string, cache: string): string {
  checkCacheName(cache);
  const base = serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`;
  return new URL(`_api/v1/cache-config/${cache}`, base).href;
}

/** attic's CreateCacheRequest, with a server-generated keypair. */
export function buildCreateCacheRequest(isPublic: boolean) {
  return { keypair: 'Generate', is_public: isPublic, store_dir: '/nix/store', priority: 41, upstream_cache_key_names: ['cache.nixos.org-1'] };
}

async function call(fetchImpl: FetchLike, method: string, url: string, token: string, body?: unknown, signal?: AbortSignal) {
  const headers: Record<string, string> = { authorization: `bearer ${token}`, 'user-agent': 'nixos-bootstrap' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetchImpl(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
    const text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  } catch (e) {
    throw failure('attic-unreachable', `cannot reach attic at ${new URL(url).origin}: ${(e as Error).message}`, 'check --server-url and that atticd runs (systemctl status atticd)', e);
  }
}

function apiError(action: string, r: { status: number; json?: Record<string, unknown>; text: string }) {
  const what = typeof r.json?.error === 'string' ? `${r.json.error}: ${String(r.json.message ?? '')}` : r.text.slice(0, 200);
  const hint = r.status === 401 || r.status === 403
    ? 'the admin token was refused: it must be signed with the server\'s current key (bootstrap cache setup re-mints tokens after a key change)'
    : undefined;
  return failure('attic-api-error', `attic ${action} failed (HTTP ${r.status}): ${what}`, hint);
}

/** Read an existing cache's configuration (its substituter and public key) with a pull token. */
export async function runReadCache(fetchImpl: FetchLike, opts: { serverUrl: string; cache: string; token: string; signal?: AbortSignal }): Promise<CacheInfo> {
  const url = cacheConfigUrl(opts.serverUrl, opts.cache);
  const get = await call(fetchImpl, 'GET', url, opts.token, undefined, opts.signal);
  if (get.status !== 200 || !get.json) throw apiError(`read cache ${opts.cache}`, get);
  return parseCacheInfo(get.json, opts, false);
}

function parseCacheInfo(json: Record<string, unknown>, opts: { serverUrl: string; cache: string }, created: boolean): CacheInfo {
  const publicKey = json.public_key;
  if (typeof publicKey !== 'string') throw failure('attic-api-error', `attic returned no public key for cache ${opts.cache}`);
  const base = opts.serverUrl.endsWith('/') ? opts.serverUrl : `${opts.serverUrl}/`;
  return {
    created,
    publicKey,
    substituterEndpoint: typeof json.substituter_endpoint === 'string' ? json.substituter_endpoint : new URL(opts.cache, base).href,
    apiEndpoint: typeof json.api_endpoint === 'string' ? json.api_endpoint : undefined,
    isPublic: typeof json.is_public === 'boolean' ? json.is_public : undefined,
  };
}

/** Create the cache (an existing one is fine) and read its public key. */
export async function runCreateCache(
  fetchImpl: FetchLike,
  opts: { serverUrl: string; cache: string; token: string; isPublic: boolean; signal?: AbortSignal },
): Promise<CacheInfo> {
  const url = cacheConfigUrl(opts.serverUrl, opts.cache);
  const post = await call(fetchImpl, 'POST', url, opts.token, buildCreateCacheRequest(opts.isPublic), opts.signal);
  let created = true;
  if (post.status === 400 && post.json?.error === 'CacheAlreadyExists') created = false;
  else if (post.status < 200 || post.status >= 300) throw apiError(`create cache ${opts.cache}`, post);
  if (!created) {
    // An existing cache keeps its keypair; only the visibility we manage is configured again.
    const patch = await call(fetchImpl, 'PATCH', url, opts.token, { is_public: opts.isPublic }, opts.signal);
    if (patch.status < 200 || patch.status >= 300) throw apiError(`configure cache ${opts.cache}`, patch);
  }
  const get = await call(fetchImpl, 'GET', url, opts.token, undefined, opts.signal);
  if (get.status !== 200 || !get.json) throw apiError(`read cache ${opts.cache}`, get);
  return parseCacheInfo(get.json, opts, created);
}

/**
 * The one HTTPS door of the provider backends (issue 13): JSON requests over node:https with a
 * per-request timeout, bounded retries and the provider's error body kept for the message.
 *
 * Retries (bounded, `maxRetries`, default 3): 429 waits Retry-After (seconds or an HTTP date) or
 * the caller's `retryAfter(headers)` (Hetzner Cloud's RateLimit-Reset), capped at `maxWaitMs`;
 * a wait the caller's `waitFor(res)` names beyond `maxWaitMs` is not waited: the response returns;
 * 5xx and what `busy(res)` calls busy (a locked resource: Hetzner 409 conflict / 423 locked)
 * back off 1 s, 2 s, 4 s. Only idempotent requests are retried on 5xx unless the caller says so:
 * a POST that failed with a 5xx may have happened. Transport errors are retried the same way.
 *
 * `baseUrl` comes from the backend's production constant; tests point it at a local fake with an
 * environment variable, and trust the fake's self-signed certificate with NODE_EXTRA_CA_CERTS (a
 * subprocess) or `ca` (in-process tests) — the request path is the same.
 */
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../context.js';
import { failure } from '../errors.js';
import { redact } from '../redact.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the text when the body is not JSON, or undefined when empty. */
  body: unknown;
  text: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, appended to baseUrl ("/servers?name=web1"). */
  path: string;
  headers?: Record<string, string>;
  /** Sent as is (the caller serializes: JSON, form data; OVH signs the exact bytes). */
  body?: string;
  /** Retry this request on 5xx too (it is idempotent even though it is a POST). */
  idempotent?: boolean;
}

export interface HttpClientOptions {
  baseUrl: string;
  clock: Pick<Clock, 'sleep'>;
  /** Provider name for messages ("Hetzner Cloud"). */
  name: string;
  /** Extra CA certificates (tests only; production uses the system store). */
  ca?: string;
  timeoutMs?: number;
  maxRetries?: number;
  maxWaitMs?: number;
  /** Responses that mean "busy, try again" besides 429 and 5xx (a locked resource). */
  busy?: (res: HttpResponse) => boolean;
  /** How long a busy or rate-limited response says to wait (ms), before Retry-After (Hetzner Robot's 403 RATE_LIMIT_EXCEEDED body). */
  waitFor?: (res: HttpResponse) => number | undefined;
  /** How long a 429 says to wait when it has no Retry-After (ms), from the provider's headers. */
  retryAfter?: (h: IncomingHttpHeaders, nowMs: number) => number | undefined;
  now?: () => number;
  signal?: AbortSignal;
}

/** Retry-After in ms: delta-seconds or an HTTP date. Pure. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function sendOnce(base: URL, r: HttpRequest, o: HttpClientOptions): Promise<HttpResponse> {
  const url = new URL(base.pathname.replace(/\/$/, '') + r.path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: r.method,
        headers: {
          accept: 'application/json',
          'user-agent': 'nixos-bootstrap',
          ...(r.body !== undefined ? { 'content-length': String(Buffer.byteLength(r.body)) } : {}),
          ...r.headers,
        },
        ...(o.ca ? { ca: o.ca } : {}),
        timeout: o.timeoutMs ?? 30_000,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text === '' ? undefined : text;
          try {
            if (text !== '') body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round((o.timeoutMs ?? 30_000) / 1000)} s`)));
    req.on('error', reject);
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

/**
 * Send `r`, retrying as described above. Returns the last response whatever its status (the
 * backend maps its error shape); throws only when the provider could not be reached at all.
 * @throws failure 'provider-unreachable', 'interrupted'
 */
export async function sendRequest(o: HttpClientOptions, r: HttpRequest): Promise<HttpResponse> {
  const base = new URL(o.baseUrl);
  const max = o.maxRetries ?? 3;
  const now = o.now ?? Date.now;
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw failure('interrupted', `interrupted while calling ${o.name}`);
    let res: HttpResponse | undefined;
    let err: unknown;
    try {
      res = await sendOnce(base, r, o);
    } catch (e) {
      err = e;
    }
    if (o.signal?.aborted) throw failure('interrupted', `interrupted while calling ${o.name}`);
    const retryable = res
      ? res.status === 429 || o.busy?.(res) === true || (res.status >= 500 && (r.method === 'GET' || r.idempotent === true))
      : r.method === 'GET' || r.idempotent === true;
    if (!retryable || attempt >= max) {
      if (res) return res;
      throw failure('provider-unreachable', `${o.name} API at ${base.host} is unreachable: ${redact((err as Error).message)}`, 'check the network (and a proxy) and run again', err);
    }
    let wait = 1000 * 2 ** attempt;
    const told = res ? o.waitFor?.(res) : undefined;
    // A provider that names a window longer than we would wait (Robot: an hour) is answered at
    // once: sleeping maxWaitMs and asking again only spends requests of the next window.
    if (res && told !== undefined && told > (o.maxWaitMs ?? 60_000)) return res;
    if (told !== undefined) wait = told;
    else if (res?.status === 429) {
      const after = parseRetryAfter(res.headers['retry-after'] as string | undefined, now()) ?? o.retryAfter?.(res.headers, now());
      if (after !== undefined) wait = after;
    }
    await o.clock.sleep(Math.min(wait, o.maxWaitMs ?? 60_000));
  }
}

/** A short description of an HTTP response for messages: status and the provider's own words. */
export function describeResponse(res: HttpResponse, providerMessage?: string): string {
  const words = providerMessage ?? (typeof res.body === 'string' ? res.body.slice(0, 200) : '');
  return redact(`HTTP ${res.status}${words ? `: ${words}` : ''}`);
}

/**
 * A local HTTPS fake of the Hetzner Cloud API calls the rescue makes (https://docs.hetzner.cloud/),
 * built from the documented shapes: Bearer auth, `{"error": {code, message, details}}` errors,
 * RateLimit-* headers, actions that are "running" at first and "success" when polled. It records
 * every request (method, path with query, headers, body) for exact assertions, and can be told to
 * answer the next matching request with a failure (401, 403, 404, 409, 423, 429 + Retry-After, 5xx).
 * `onReset` is called when a server with rescue armed is reset or powered on (the lab boots the
 * namespace target into its "rescue system" there).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { makeSelfSignedCert, type TestCert } from './tls.js';

export interface FakeRequest { method: string; path: string; headers: IncomingHttpHeaders; body: string }
export interface FakeServerRecord {
  id: number; name: string; status: 'running' | 'off'; rescue_enabled: boolean;
  public_net: { ipv4: { ip: string } | null; ipv6: { ip: string } | null };
  /** What the fake recorded: the ssh key ids rescue was armed with, resets. */
  rescueKeys?: number[];
  resets?: number;
}
export interface FakeSshKey { id: number; name: string; fingerprint: string; public_key: string; labels: Record<string, string> }
export interface Injected { method?: string; path?: RegExp; status: number; body?: unknown; headers?: Record<string, string>; times?: number }

export interface HetznerCloudFake {
  url: string;
  cert: TestCert;
  token: string;
  requests: FakeRequest[];
  servers: FakeServerRecord[];
  sshKeys: FakeSshKey[];
  /** Polls an action stays "running" before it succeeds (default 1). */
  pollsUntilDone: number;
  /** Make the next action end in "error" with this code. */
  failNextAction?: { code: string; message: string };
  inject(i: Injected): void;
  /** Forget injected failures and recorded requests. */
  reset(): void;
  readOnly: boolean;
  onReset?: (s: FakeServerRecord, keys: FakeSshKey[]) => Promise<void> | void;
  close(): Promise<void>;
}

const err = (code: string, message: string) => ({ error: { code, message, details: {} } });

export async function startHetznerCloudFake(opts: { token?: string; servers?: FakeServerRecord[] } = {}): Promise<HetznerCloudFake> {
  const cert = makeSelfSignedCert();
  const token = opts.token ?? 'hc-test-token-0123456789abcdef0123456789abcdef0123456789abcdef0123';
  const injected: Injected[] = [];
  let nextId = 1000;
  const actions = new Map<number, { id: number; command: string; polls: number; fail?: { code: string; message: string }; resources: Array<{ id: number; type: string }> }>();
  const fake: HetznerCloudFake = {
    url: '', cert, token, requests: [], servers: opts.servers ?? [], sshKeys: [], pollsUntilDone: 1, readOnly: false,
    inject: (i) => injected.push({ times: 1, ...i }),
    reset: () => { injected.length = 0; fake.requests.length = 0; },
    close: async () => {},
  };
  const action = (command: string, serverId: number) => {
    const a = { id: nextId++, command, polls: 0, resources: [{ id: serverId, type: 'server' }], ...(fake.failNextAction ? { fail: fake.failNextAction } : {}) };
    delete fake.failNextAction;
    actions.set(a.id, a);
    return { id: a.id, command, status: 'running', progress: 0, started: new Date().toISOString(), finished: null, resources: a.resources, error: null };
  };
  const server: Server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '';
        fake.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
        const send = (status: number, value?: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', 'ratelimit-limit': '3600', 'ratelimit-remaining': '3599', 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1), ...headers });
          res.end(value === undefined ? '' : JSON.stringify(value));
        };
        const inj = injected.find((i) => (i.method === undefined || i.method === req.method) && (i.path === undefined || i.path.test(path)));
        if (inj) {
          if (--inj.times! <= 0) injected.splice(injected.indexOf(inj), 1);
          send(inj.status, inj.body, inj.headers);
          return;
        }
        if (req.headers.authorization !== `Bearer ${token}`) return send(401, err('unauthorized', 'unable to authenticate'));
        const url = new URL(path, 'https://x');
        const p = url.pathname.replace(/^\/v1/, '');
        const isWrite = req.method !== 'GET';
        if (isWrite && fake.readOnly) return send(403, err('token_readonly', 'The token you are using is read-only'));
        if (isWrite && req.headers['content-type'] !== undefined && req.headers['content-type'] !== 'application/json') return send(400, err('json_error', 'content-type must be application/json'));
        const serverOut = (s: FakeServerRecord) => ({ id: s.id, name: s.name, status: s.status, rescue_enabled: s.rescue_enabled, public_net: s.public_net });
        let m: RegExpExecArray | null;
        if (req.method === 'GET' && p === '/servers') {
          const name = url.searchParams.get('name');
          const page = Number(url.searchParams.get('page') ?? 1);
          const per = Number(url.searchParams.get('per_page') ?? 25);
          const all = fake.servers.filter((s) => name === null || s.name === name);
          const slice = all.slice((page - 1) * per, page * per);
          const last = Math.max(1, Math.ceil(all.length / per));
          return send(200, { servers: slice.map(serverOut), meta: { pagination: { page, per_page: per, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null, last_page: last, total_entries: all.length } } });
        }
        if (req.method === 'GET' && (m = /^\/servers\/(\d+)$/.exec(p))) {
          const s = fake.servers.find((x) => x.id === Number(m![1]));
          return s ? send(200, { server: serverOut(s) }) : send(404, err('not_found', 'server not found'));
        }
        if (req.method === 'GET' && p === '/ssh_keys') {
          const fp = url.searchParams.get('fingerprint');
          return send(200, { ssh_keys: fake.sshKeys.filter((k) => fp === null || k.fingerprint === fp), meta: { pagination: { page: 1, per_page: 25, previous_page: null, next_page: null, last_page: 1, total_entries: 1 } } });
        }
        if (req.method === 'POST' && p === '/ssh_keys') {
          const b = JSON.parse(body) as { name: string; public_key: string; labels?: Record<string, string> };
          const { createHash } = await import('node:crypto');
          const fingerprint = createHash('md5').update(Buffer.from(b.public_key.split(' ')[1] ?? '', 'base64')).digest('hex').match(/../g)!.join(':');
          if (fake.sshKeys.some((k) => k.name === b.name || k.fingerprint === fingerprint)) return send(409, err('uniqueness_error', 'SSH key with the same fingerprint already exists'));
          const k: FakeSshKey = { id: nextId++, name: b.name, fingerprint, public_key: b.public_key, labels: b.labels ?? {} };
          fake.sshKeys.push(k);
          return send(201, { ssh_key: { ...k, created: new Date().toISOString() } });
        }
        if (req.method === 'POST' && (m = /^\/servers\/(\d+)\/actions\/(enable_rescue|disable_rescue|reset|poweron)$/.exec(p))) {
          const s = fake.servers.find((x) => x.id === Number(m![1]));
          if (!s) return send(404, err('not_found', 'server not found'));
          const verb = m[2]!;
          if (verb === 'enable_rescue') {
            const b = JSON.parse(body || '{}') as { type?: string; ssh_keys?: number[] };
            if (b.type !== undefined && b.type !== 'linux64') return send(400, err('invalid_input', 'invalid rescue type'));
            s.rescue_enabled = true;
            s.rescueKeys = b.ssh_keys ?? [];
            return send(201, { root_password: 'zCWbFhnu950dT6F4rescue', action: action('enable_rescue', s.id) });
          }
          if (verb === 'disable_rescue') {
            s.rescue_enabled = false;
            return send(201, { action: action('disable_rescue', s.id) });
          }
          const a = action(verb === 'reset' ? 'reset_server' : 'start_server', s.id);
          s.resets = (s.resets ?? 0) + 1;
          s.status = 'running';
          if (s.rescue_enabled) {
            s.rescue_enabled = false; // "automatically disabled when you first boot into it"
            await fake.onReset?.(s, fake.sshKeys.filter((k) => s.rescueKeys?.includes(k.id)));
          }
          return send(201, { action: a });
        }
        if (req.method === 'GET' && (m = /^\/actions\/(\d+)$/.exec(p))) {
          const a = actions.get(Number(m[1]));
          if (!a) return send(404, err('not_found', 'action not found'));
          a.polls++;
          const done = a.polls >= fake.pollsUntilDone;
          const status = !done ? 'running' : a.fail ? 'error' : 'success';
          return send(200, { action: { id: a.id, command: a.command, status, progress: done ? 100 : 50, started: new Date().toISOString(), finished: done ? new Date().toISOString() : null, resources: a.resources, error: status === 'error' ? a.fail : null } });
        }
        send(404, err('not_found', `no route ${req.method} ${p}`));
      })().catch((e: unknown) => { res.writeHead(500).end(String(e)); });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `https://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  fake.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    cert.remove();
  };
  return fake;
}

export function fakeServer(id: number, name: string, ip: string): FakeServerRecord {
  return { id, name, status: 'running', rescue_enabled: false, public_net: { ipv4: { ip }, ipv6: { ip: '2001:db8::/64' } } };
}

/**
 * A local HTTPS fake of the OVHcloud API calls the rescue makes. It checks every signed request the
 * documented way, computed here independently: X-Ovh-Signature must be
 * "$1$" + SHA1_HEX(AS + "+" + CK + "+" + METHOD + "+" + FULL_URL + "+" + BODY + "+" + TIMESTAMP),
 * X-Ovh-Application / X-Ovh-Consumer must be known, and X-Ovh-Timestamp within 180 s of the fake's
 * clock (`apiTime`, served unauthenticated at GET /auth/time — deliberately off from the local
 * clock, so a client that skips /auth/time fails). Errors in the documented shape
 * {errorCode, httpCode, message} / {class, message}.
 * A dedicated server offers several rescue netboots, listed in no particular order with WinRescue
 * first (GET …/boot?bootType=rescue), each read at GET …/boot/{id} ({bootId, bootType, kernel,
 * description}; kernels and descriptions as OVHcloud's guides and API clients show them:
 * `rescue-customer` "Customer rescue system (Linux)", `WinRescue` (Windows, password by mail), the
 * retired `rescue64-pro`). Only the customer rescue boots with the key set in `rescueSshKey`: a reboot
 * into another one comes up without it, as on the real service.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { makeSelfSignedCert, type TestCert } from './tls.js';

export interface OvhRequest { method: string; path: string; headers: IncomingHttpHeaders; body: string; signatureOk: boolean }
export interface OvhDedicated { name: string; ip: string; bootId: number; rescueSshKey: string | null; reboots: number }
export interface OvhVps { name: string; netbootMode: 'local' | 'rescue'; reboots: number }
export interface OvhInjected { method?: string; path?: RegExp; status: number; body?: unknown; headers?: Record<string, string>; times?: number }

export interface OvhFake {
  url: string; cert: TestCert; ak: string; as: string; ck: string;
  /** The API clock in unix seconds = local + skew. */
  skewSeconds: number;
  rules: Array<{ method: string; path: string }>;
  requests: OvhRequest[]; dedicated: OvhDedicated[]; vps: OvhVps[];
  /** The netboots every dedicated server offers (OVH_BOOTS unless a test changes them). */
  boots: Array<{ bootId: number; bootType: string; kernel: string; description: string }>;
  /** False: the consumer key was created but never validated (403 NOT_CREDENTIAL). */
  ckValidated: boolean;
  /** Polls a task stays "doing" before "done" (default 1). */
  pollsUntilDone: number;
  inject(i: OvhInjected): void;
  reset(): void;
  onReboot?: (name: string, intoRescue: boolean, rescueKey: string | null) => void;
  close(): Promise<void>;
}

export const OVH_RESCUE_BOOT = 1156;
export const OVH_WINRESCUE_BOOT = 1157;
export const OVH_LEGACY_RESCUE_BOOT = 1122;
export const OVH_DISK_BOOT = 1;
/** The boots a dedicated server offers, in the order GET …/boot lists their ids. */
export const OVH_BOOTS = [
  { bootId: OVH_WINRESCUE_BOOT, bootType: 'rescue', kernel: 'WinRescue', description: 'Windows rescue system (WinPE)' },
  { bootId: OVH_LEGACY_RESCUE_BOOT, bootType: 'rescue', kernel: 'rescue64-pro', description: 'Rescue 64 bits' },
  { bootId: OVH_RESCUE_BOOT, bootType: 'rescue', kernel: 'rescue-customer', description: 'Customer rescue system (Linux)' },
  { bootId: OVH_DISK_BOOT, bootType: 'harddisk', kernel: 'hd', description: 'Boot from the hard disk' },
];

export async function startOvhFake(): Promise<OvhFake> {
  const cert = makeSelfSignedCert();
  const injected: OvhInjected[] = [];
  const tasks = new Map<number, number>();
  let nextTask = 5000;
  const fake: OvhFake = {
    url: '', cert, ak: 'ovhAppKey0123456', as: 'ovhAppSecret0123456789abcdefABCDEF', ck: 'ovhConsumerKey0123456789abcdefABCD', skewSeconds: -3700,
    rules: [{ method: 'GET', path: '/*' }, { method: 'PUT', path: '/dedicated/server/*' }, { method: 'POST', path: '/dedicated/server/*' }, { method: 'PUT', path: '/vps/*' }, { method: 'POST', path: '/vps/*' }],
    requests: [], dedicated: [], vps: [], boots: OVH_BOOTS.map((b) => ({ ...b })), pollsUntilDone: 1, ckValidated: true,
    inject: (i) => injected.push({ times: 1, ...i }),
    reset: () => { injected.length = 0; fake.requests.length = 0; },
    close: async () => {},
  };
  const apiNow = () => Math.floor(Date.now() / 1000) + fake.skewSeconds;
  const server: Server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '').replace(/^\/1\.0/, '');
      const method = req.method ?? '';
      const ts = String(req.headers['x-ovh-timestamp'] ?? '');
      const expected = '$1$' + createHash('sha1').update(`${fake.as}+${fake.ck}+${method}+${fake.url}${path}+${body}+${ts}`).digest('hex');
      const signatureOk = req.headers['x-ovh-signature'] === expected;
      fake.requests.push({ method, path, headers: req.headers, body, signatureOk });
      const send = (status: number, value?: unknown, headers: Record<string, string> = {}) => { res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }); res.end(value === undefined ? 'null' : JSON.stringify(value)); };
      const inj = injected.find((i) => (i.method === undefined || i.method === method) && (i.path === undefined || i.path.test(path)));
      if (inj) {
        if (--inj.times! <= 0) injected.splice(injected.indexOf(inj), 1);
        return send(inj.status, inj.body, inj.headers);
      }
      if (method === 'GET' && path === '/auth/time') return send(200, apiNow());
      if (req.headers['x-ovh-application'] !== fake.ak) return send(403, { errorCode: 'INVALID_KEY', httpCode: '403 Forbidden', message: 'Invalid application key' });
      if (req.headers['x-ovh-consumer'] !== fake.ck) return send(403, { errorCode: 'INVALID_CREDENTIAL', httpCode: '403 Forbidden', message: 'This credential does not exist' });
      if (!fake.ckValidated) return send(403, { errorCode: 'NOT_CREDENTIAL', httpCode: '403 Forbidden', message: 'This credential is not valid' });
      if (!/^\d+$/.test(ts) || Math.abs(Number(ts) - apiNow()) > 180) return send(400, { errorCode: 'QUERY_TIME_OUT', httpCode: '400 Bad Request', message: 'Query out of time' });
      if (!signatureOk) return send(400, { errorCode: 'INVALID_SIGNATURE', httpCode: '400 Bad Request', message: 'Invalid signature' });
      const granted = fake.rules.some((r) => r.method === method && new RegExp('^' + r.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$').test(path.split('?')[0]!));
      if (!granted && path !== '/auth/currentCredential') return send(403, { errorCode: 'NOT_GRANTED_CALL', httpCode: '403 Forbidden', message: 'This call has not been granted' });
      if (method !== 'GET' && body !== '' && req.headers['content-type'] !== 'application/json') return send(400, { class: 'Client::BadRequest', message: 'content-type' });
      const notFound = (sn: string) => send(404, { class: 'Client::NotFound', message: `The requested object (serviceName = ${sn}) does not exist` });
      let m: RegExpExecArray | null;
      if (method === 'GET' && path === '/auth/currentCredential') return send(200, { credentialId: 1, applicationId: 2, status: 'validated', rules: fake.rules, expiration: null, creation: '2026-11-30T12:00:00Z', lastUse: null, ovhSupport: false, allowedIPs: null });
      if ((m = /^\/dedicated\/server\/([^/?]+)(.*)$/.exec(path))) {
        const d = fake.dedicated.find((x) => x.name === decodeURIComponent(m![1]!));
        if (!d) return notFound(m[1]!);
        const rest = m[2]!;
        if (method === 'GET' && rest === '') return send(200, { name: d.name, ip: d.ip, bootId: d.bootId, state: 'ok', monitoring: true, rescueMail: null, rescueSshKey: d.rescueSshKey, os: 'debian12_64' });
        if (method === 'PUT' && rest === '') {
          const b = JSON.parse(body) as { bootId?: number; rescueSshKey?: string };
          if (b.bootId !== undefined) { if (!fake.boots.some((x) => x.bootId === b.bootId)) return send(400, { class: 'Client::BadRequest', message: 'Invalid bootId' }); d.bootId = b.bootId; }
          if (b.rescueSshKey !== undefined) d.rescueSshKey = b.rescueSshKey;
          return send(200, null);
        }
        if (method === 'GET' && (m = /^\/boot\?bootType=(\w+)$/.exec(rest))) return send(200, fake.boots.filter((x) => x.bootType === m![1]).map((x) => x.bootId));
        if (method === 'GET' && (m = /^\/boot\/(\d+)$/.exec(rest))) {
          const boot = fake.boots.find((x) => x.bootId === Number(m![1]));
          return boot ? send(200, boot) : send(404, { class: 'Client::NotFound', message: `The requested object (bootId = ${m[1]}) does not exist` });
        }
        if (method === 'POST' && rest === '/reboot') {
          d.reboots++;
          const id = nextTask++;
          tasks.set(id, 0);
          // Only the customer rescue takes rescueSshKey; WinRescue and old images boot without it.
          fake.onReboot?.(d.name, fake.boots.find((x) => x.bootId === d.bootId)?.kernel === 'rescue-customer', d.rescueSshKey);
          return send(200, { taskId: id, function: 'hardReboot', status: 'init', comment: null, startDate: new Date().toISOString(), doneDate: null, lastUpdate: new Date().toISOString() });
        }
        if (method === 'GET' && (m = /^\/task\/(\d+)$/.exec(rest))) {
          const n = (tasks.get(Number(m[1])) ?? 0) + 1;
          tasks.set(Number(m[1]), n);
          return send(200, { taskId: Number(m[1]), function: 'hardReboot', status: n >= fake.pollsUntilDone ? 'done' : 'doing', comment: null });
        }
      }
      if ((m = /^\/vps\/([^/?]+)(.*)$/.exec(path))) {
        const v = fake.vps.find((x) => x.name === decodeURIComponent(m![1]!));
        if (!v) return notFound(m[1]!);
        const rest = m[2]!;
        if (method === 'GET' && rest === '') return send(200, { name: v.name, netbootMode: v.netbootMode, state: 'running', model: { name: 'vps-value-1-2-40' } });
        if (method === 'PUT' && rest === '') {
          const b = JSON.parse(body) as { netbootMode?: string };
          if (b.netbootMode !== 'local' && b.netbootMode !== 'rescue') return send(400, { class: 'Client::BadRequest', message: 'Invalid netbootMode' });
          v.netbootMode = b.netbootMode;
          return send(200, null);
        }
        if (method === 'POST' && rest === '/reboot') {
          v.reboots++;
          const id = nextTask++;
          tasks.set(id, 0);
          fake.onReboot?.(v.name, v.netbootMode === 'rescue', null);
          return send(200, { id, type: 'rebootVm', state: 'todo', progress: 0 });
        }
        if (method === 'GET' && (m = /^\/tasks\/(\d+)$/.exec(rest))) {
          const n = (tasks.get(Number(m[1])) ?? 0) + 1;
          tasks.set(Number(m[1]), n);
          return send(200, { id: Number(m[1]), type: 'rebootVm', state: n >= fake.pollsUntilDone ? 'done' : 'doing', progress: n >= fake.pollsUntilDone ? 100 : 50 });
        }
      }
      send(404, { class: 'Client::NotFound', message: `no route ${method} ${path}` });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `https://127.0.0.1:${(server.address() as { port: number }).port}/1.0`;
  fake.close = async () => { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); cert.remove(); };
  return fake;
}

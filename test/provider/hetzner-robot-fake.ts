/**
 * A local HTTPS fake of the Hetzner Robot web-service calls the rescue makes, from the documented
 * shapes (https://robot.hetzner.com/doc/webservice/en.html): Basic auth, form-urlencoded POSTs,
 * `{"error": {status, code, message}}` errors, the 403 RATE_LIMIT_EXCEEDED limit with interval.
 * Boot configurations as a real account has them: one active at a time; POST /boot/{n}/rescue
 * while any is active (an earlier rescue, an installimage `linux`) answers 409 BOOT_ALREADY_ENABLED
 * (the code the docs list for it; the message text is ours), GET /boot/{n} lists them all (shape
 * from community.hrobot's tests/unit/plugins/modules/test_boot.py: rescue, linux, vnc objects,
 * windows/plesk/cpanel null when not offered), DELETE /boot/{n}/{kind} deactivates one.
 * Records every request; `inject` answers the next matching request with a failure.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { makeSelfSignedCert, type TestCert } from './tls.js';

export interface RobotRequest { method: string; path: string; headers: IncomingHttpHeaders; body: string; form: URLSearchParams }
export interface RobotServer { server_number: number; server_name: string; server_ip: string; status: string; rescue: boolean; resetTypes: string[]; resets: string[]; rescueKeys?: string[]; linuxInstall?: boolean }
export interface RobotKey { name: string; fingerprint: string; type: string; size: number; data: string }
export interface RobotInjected { method?: string; path?: RegExp; status: number; body?: unknown; times?: number }

export interface HetznerRobotFake {
  url: string; cert: TestCert; user: string; password: string;
  requests: RobotRequest[]; servers: RobotServer[]; keys: RobotKey[];
  inject(i: RobotInjected): void;
  reset(): void;
  onReset?: (s: RobotServer, keys: RobotKey[]) => void;
  close(): Promise<void>;
}

const err = (status: number, code: string, message: string, extra: Record<string, unknown> = {}) => ({ error: { status, code, message, ...extra } });

export async function startHetznerRobotFake(): Promise<HetznerRobotFake> {
  const cert = makeSelfSignedCert();
  const injected: RobotInjected[] = [];
  const fake: HetznerRobotFake = {
    url: '', cert, user: '#ws+AbCdEfGh', password: 'robot-ws-password-0123456789', requests: [], servers: [], keys: [],
    inject: (i) => injected.push({ times: 1, ...i }),
    reset: () => { injected.length = 0; fake.requests.length = 0; },
    close: async () => {},
  };
  const server: Server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      const formData = new URLSearchParams(body);
      fake.requests.push({ method: req.method ?? '', path, headers: req.headers, body, form: formData });
      const send = (status: number, value?: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(value === undefined ? '' : JSON.stringify(value)); };
      const inj = injected.find((i) => (i.method === undefined || i.method === req.method) && (i.path === undefined || i.path.test(path)));
      if (inj) {
        if (--inj.times! <= 0) injected.splice(injected.indexOf(inj), 1);
        return send(inj.status, inj.body);
      }
      if (req.headers.authorization !== `Basic ${Buffer.from(`${fake.user}:${fake.password}`).toString('base64')}`) return send(401, err(401, 'UNAUTHORIZED', 'Unauthorized'));
      if (req.method === 'POST' && req.headers['content-type'] !== 'application/x-www-form-urlencoded') return send(400, err(400, 'INVALID_INPUT', 'invalid input', { missing: null, invalid: ['content-type'] }));
      const out = (s: RobotServer) => ({ server_ip: s.server_ip, server_ipv6_net: '2a01:4f8:111:4221::', server_number: s.server_number, server_name: s.server_name, product: 'AX41', dc: 'FSN1-DC1', traffic: 'unlimited', status: s.status, cancelled: false, paid_until: '2027-01-01' });
      const rescueOut = (s: RobotServer, password: string | null) => ({ rescue: { server_ip: s.server_ip, server_ipv6_net: '2a01:4f8:111:4221::', server_number: s.server_number, os: s.rescue ? 'linux' : ['linux', 'vkvm'], arch: s.rescue ? 64 : [64], active: s.rescue, password, authorized_key: (s.rescueKeys ?? []).map((fp) => ({ key: { name: fake.keys.find((k) => k.fingerprint === fp)?.name, fingerprint: fp, type: 'ED25519', size: 256 } })), host_key: [], boot_time: null } });
      let m: RegExpExecArray | null;
      const find = (n: string) => fake.servers.find((s) => s.server_number === Number(n));
      if (req.method === 'GET' && path === '/server') return fake.servers.length ? send(200, fake.servers.map((s) => ({ server: out(s) }))) : send(404, err(404, 'NOT_FOUND', 'No server found'));
      if (req.method === 'GET' && (m = /^\/server\/(\d+)$/.exec(path))) { const s = find(m[1]!); return s ? send(200, { server: out(s) }) : send(404, err(404, 'SERVER_NOT_FOUND', 'Server not found')); }
      if (req.method === 'GET' && path === '/key') return fake.keys.length ? send(200, fake.keys.map((k) => ({ key: { ...k, created_at: '2026-11-30 12:00:00' } }))) : send(404, err(404, 'NOT_FOUND', 'No keys found'));
      if (req.method === 'POST' && path === '/key') {
        const data = formData.get('data') ?? '';
        const fingerprint = createHash('md5').update(Buffer.from(data.split(' ')[1] ?? '', 'base64')).digest('hex').match(/../g)!.join(':');
        if (fake.keys.some((k) => k.fingerprint === fingerprint)) return send(409, err(409, 'KEY_ALREADY_EXISTS', 'The supplied key already exists'));
        const k: RobotKey = { name: formData.get('name') ?? '', fingerprint, type: 'ED25519', size: 256, data };
        fake.keys.push(k);
        return send(201, { key: { ...k, created_at: '2026-11-30 12:00:00' } });
      }
      const linuxOut = (s: RobotServer) => ({ dist: s.linuxInstall ? 'Debian 12 base' : ['Debian 12 base', 'Ubuntu 24.04 LTS base'], arch: s.linuxInstall ? 64 : [64], lang: s.linuxInstall ? 'en' : ['en'], active: s.linuxInstall === true, password: s.linuxInstall ? 'kD8fLinuxInstallPw' : null, authorized_key: [], host_key: [] });
      if ((m = /^\/boot\/(\d+)$/.exec(path)) && req.method === 'GET') {
        const s = find(m[1]!);
        if (!s) return send(404, err(404, 'SERVER_NOT_FOUND', 'Server not found'));
        return send(200, { boot: { rescue: rescueOut(s, null).rescue, linux: linuxOut(s), vnc: { dist: ['Debian-12'], arch: [64], lang: ['en_US'], active: false, password: null }, windows: null, plesk: null, cpanel: null } });
      }
      if ((m = /^\/boot\/(\d+)\/linux$/.exec(path)) && req.method === 'DELETE') {
        const s = find(m[1]!);
        if (!s) return send(404, err(404, 'SERVER_NOT_FOUND', 'Server not found'));
        s.linuxInstall = false;
        return send(200, { linux: linuxOut(s) });
      }
      if ((m = /^\/boot\/(\d+)\/rescue$/.exec(path))) {
        const s = find(m[1]!);
        if (!s) return send(404, err(404, 'SERVER_NOT_FOUND', 'Server not found'));
        if (req.method === 'GET') return send(200, rescueOut(s, null));
        if (req.method === 'DELETE') { s.rescue = false; return send(200, rescueOut(s, null)); }
        if (req.method === 'POST') {
          if (s.rescue || s.linuxInstall) return send(409, err(409, 'BOOT_ALREADY_ENABLED', 'A boot configuration is already active'));
          if (formData.get('os') !== 'linux') return send(400, err(400, 'INVALID_INPUT', 'invalid input', { missing: null, invalid: ['os'] }));
          // PHP-style arrays, as documented: authorized_key[]=… (community.hrobot sends authorized_key[0]=…, [1]=… for several).
          const fps = [...formData].filter(([k]) => /^authorized_key\[\d*\]$/.test(k)).map(([, v]) => v);
          if (fps.some((fp) => !fake.keys.some((k) => k.fingerprint === fp))) return send(400, err(400, 'INVALID_INPUT', 'invalid input', { missing: null, invalid: ['authorized_key'] }));
          s.rescue = true;
          s.rescueKeys = fps;
          return send(200, rescueOut(s, 'jEt0dtUvomJ2EgRobot'));
        }
      }
      if ((m = /^\/reset\/(\d+)$/.exec(path))) {
        const s = find(m[1]!);
        if (!s) return send(404, err(404, 'SERVER_NOT_FOUND', 'Server not found'));
        if (req.method === 'GET') return send(200, { reset: { server_ip: s.server_ip, server_ipv6_net: '2a01:4f8:111:4221::', server_number: s.server_number, type: s.resetTypes, operating_status: 'not supported' } });
        if (req.method === 'POST') {
          const type = formData.get('type') ?? '';
          if (!s.resetTypes.includes(type)) return send(400, err(400, 'INVALID_INPUT', 'invalid input', { missing: null, invalid: ['type'] }));
          s.resets.push(type);
          if (s.rescue) { s.rescue = false; fake.onReset?.(s, fake.keys.filter((k) => s.rescueKeys?.includes(k.fingerprint))); }
          return send(200, { reset: { server_ip: s.server_ip, server_ipv6_net: '2a01:4f8:111:4221::', server_number: s.server_number, type } });
        }
      }
      send(404, err(404, 'NOT_FOUND', `no route ${req.method} ${path}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = async () => { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); cert.remove(); };
  return fake;
}

export function robotServer(n: number, name: string, ip: string, resetTypes = ['sw', 'hw', 'man']): RobotServer {
  return { server_number: n, server_name: name, server_ip: ip, status: 'ready', rescue: false, resetTypes, resets: [] };
}

/**
 * Hetzner Robot backend (dedicated servers; issue 13), https://robot.hetzner.com/doc/webservice/en.html :
 * - auth: HTTP Basic with the web-service user (Robot → Settings → Web service and app settings);
 *   after 3 failed logins Robot blocks the caller's IP for 10 minutes, so a 401 is never retried;
 * - POST parameters are application/x-www-form-urlencoded, answers are JSON;
 * - errors: `{"error": {"status", "code", "message"}}` (404 SERVER_NOT_FOUND / NOT_FOUND,
 *   409 RESET_MANUAL_ACTIVE …, 400 INVALID_INPUT with missing/invalid); the request limit is a
 *   403 with code RATE_LIMIT_EXCEEDED, max_request and interval (seconds): waited out when the
 *   interval is short, refused at once with the time to retry when it is long (the boot, reset
 *   and key calls count per hour: waiting a minute only burns the next requests);
 *   503 during maintenance (retried on reads);
 * - rescue: POST /boot/{server-number}/rescue os=linux&authorized_key[]=MD5-FINGERPRINT (keys
 *   deposited with POST /key name=…&data=…, found by fingerprint in GET /key); it answers the root
 *   password, which we do not need (our key logs in) and never keep. Robot refuses it with 409
 *   BOOT_ALREADY_ENABLED while any boot configuration (an earlier rescue, an installimage, vnc …)
 *   is active, so the active ones (GET /boot/{n}) are deleted first (DELETE /boot/{n}/{kind}), as
 *   ansible-collections/community.hrobot's boot module does; a re-arm also gets our key that way.
 *   The activation holds for the next boot only; bootFromDisk deletes it (DELETE /boot/{n}/rescue)
 *   if it is somehow still active.
 * - reset: POST /reset/{server-number} type=hw, when GET /reset/{n} offers it (sw needs a working OS,
 *   power only presses the button).
 * The rescue's own host key is not something this backend can vouch for: the user confirms it.
 */
import type { Clock } from '../context.js';
import { failure } from '../errors.js';
import { registerSecret } from '../redact.js';
import { describeResponse, sendRequest, type HttpClientOptions, type HttpRequest, type HttpResponse } from './http.js';
import { parseOperatorKey } from './ssh-key.js';
import type { CredentialCheck, ProviderServer, RescueGrant, RescueProvider } from './types.js';

export const HETZNER_ROBOT_API = 'https://robot-ws.your-server.de';
/** Tests point the backend at a local fake with this; production never sets it. */
export const HETZNER_ROBOT_URL_ENV = 'BOOTSTRAP_TEST_HROBOT_URL';

interface ApiServer { server_ip: string | null; server_ipv6_net?: string | null; server_number: number; server_name: string; status: string }
interface ApiRescue { active: boolean; password?: string | null; os?: string | string[] }
/** The boot configurations GET /boot/{n} reports (each null when the server does not offer it). */
export const ROBOT_BOOT_KINDS = ['rescue', 'linux', 'vnc', 'windows', 'plesk', 'cpanel'] as const;

export interface HetznerRobotOptions {
  user: string;
  password: string;
  clock: Clock;
  baseUrl?: string;
  ca?: string;
  signal?: AbortSignal;
}

const LABEL = 'Hetzner Robot';
const apiError = (res: HttpResponse) => {
  const e = (res.body as { error?: { code?: unknown; message?: unknown; interval?: unknown; missing?: unknown; invalid?: unknown } } | undefined)?.error;
  return {
    code: typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.message === 'string' ? e.message : undefined,
    interval: typeof e?.interval === 'number' ? e.interval : undefined,
    fields: [...(Array.isArray(e?.missing) ? e.missing.map((m) => `missing ${String(m)}`) : []), ...(Array.isArray(e?.invalid) ? e.invalid.map((m) => `invalid ${String(m)}`) : [])],
  };
};

/** The error a failed call becomes. Pure. */
export function mapHetznerRobotError(res: HttpResponse, what: string, nowMs?: number): Error {
  const { code, message, fields, interval } = apiError(res);
  const said = describeResponse(res, [code, message, fields.length ? fields.join(', ') : undefined].filter(Boolean).join(': ') || undefined);
  const m = `${LABEL}: ${what} failed (${said})`;
  if (res.status === 401) return failure('provider-unauthorized', m, 'the web-service user or password is wrong (Robot → Settings → Web service and app settings); Robot blocks this IP for 10 minutes after 3 failed logins, so fix the credentials before trying again');
  if (res.status === 403 && code === 'RATE_LIMIT_EXCEEDED') return failure('provider-rate-limited', m, rateLimitHint(interval, maxRequests(res), nowMs));
  if (res.status === 403) return failure('provider-forbidden', m, 'the web-service user may not do this for this server');
  if (res.status === 404) return failure('provider-not-found', m, 'the server is not in this Robot account (check [provider] server: a server number, name or IPv4 address), or the function is not available for it');
  if (res.status === 409 && code === 'BOOT_ALREADY_ENABLED') return failure('provider-boot-active', m, 'another boot configuration became active on the server while this run cleared them (someone else armed one in Robot?); check Robot → the server → Rescue / Linux, then run again with --resume');
  if (res.status === 409) return failure('provider-locked', m, 'another operation (a manual reset, an order) is in progress on the server; wait, then run again with --resume');
  if (res.status === 400) return failure('provider-bad-request', m, 'Robot refused the request; see the message');
  return failure('provider-error', m, 'Hetzner Robot failed (503: maintenance); check https://status.hetzner.com and run again with --resume');
}

const maxRequests = (res: HttpResponse): number | undefined => {
  const n = (res.body as { error?: { max_request?: unknown } } | undefined)?.error?.max_request;
  return typeof n === 'number' ? n : undefined;
};

/** When to retry after Robot's 403 RATE_LIMIT_EXCEEDED: its window is `interval` seconds. Pure. */
function rateLimitHint(interval: number | undefined, max: number | undefined, nowMs: number | undefined): string {
  if (interval === undefined) return 'the Robot request limit is used up; wait for its interval and run again with --resume';
  const span = interval >= 3600 && interval % 3600 === 0 ? `${interval / 3600} h` : interval >= 60 ? `${Math.round(interval / 60)} min` : `${interval} s`;
  const until = nowMs === undefined ? '' : ` (by ${new Date(nowMs + interval * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC at the latest)`;
  return `the Robot request limit is used up${max !== undefined ? ` (${max} requests per ${span} for this call)` : ` (its window is ${span})`}; run again with --resume once the window has passed${until}`;
}

const form = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

export class HetznerRobotProvider implements RescueProvider {
  readonly kind = 'hetzner-robot' as const;
  readonly label = LABEL;
  readonly exposesHostKey = false;
  private readonly http: HttpClientOptions;
  private readonly auth: string;

  private readonly now: () => number;

  constructor(o: HetznerRobotOptions) {
    this.now = () => o.clock.now().getTime();
    registerSecret(o.password);
    this.auth = `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}`;
    registerSecret(this.auth.slice('Basic '.length));
    this.http = {
      baseUrl: o.baseUrl ?? HETZNER_ROBOT_API,
      clock: o.clock,
      name: LABEL,
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      now: () => o.clock.now().getTime(),
      busy: (res) => res.status === 403 && apiError(res).code === 'RATE_LIMIT_EXCEEDED',
      waitFor: (res) => {
        const e = apiError(res);
        return e.code === 'RATE_LIMIT_EXCEEDED' && e.interval !== undefined ? e.interval * 1000 : undefined;
      },
    };
  }

  private async call<T>(what: string, r: HttpRequest, okStatuses: number[] = []): Promise<T | undefined> {
    const res = await sendRequest(this.http, { ...r, headers: { authorization: this.auth, ...(r.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } });
    if (okStatuses.includes(res.status)) return undefined;
    if (res.status < 200 || res.status > 299) throw mapHetznerRobotError(res, what, this.now());
    return res.body as T;
  }

  private toServer(s: ApiServer, rescueActive = false): ProviderServer {
    return { id: String(s.server_number), name: s.server_name || String(s.server_number), status: s.status, rescueEnabled: rescueActive, ...(s.server_ip ? { ipv4: s.server_ip } : {}), ...(s.server_ipv6_net ? { ipv6: s.server_ipv6_net } : {}) };
  }

  async findServer(selector: string): Promise<ProviderServer> {
    if (/^\d+$/.test(selector)) {
      const r = await this.call<{ server: ApiServer }>(`reading server ${selector}`, { method: 'GET', path: `/server/${selector}` });
      return this.toServer(r!.server);
    }
    // GET /server answers 404 NOT_FOUND when the account has no server at all.
    const list = (await this.call<Array<{ server: ApiServer }>>('listing servers', { method: 'GET', path: '/server' }, [404])) ?? [];
    const s = list.map((x) => x.server).find((x) => x.server_name === selector || x.server_ip === selector);
    if (!s) throw failure('provider-server-not-found', `${LABEL}: no server named or addressed ${selector} in this account`, 'check [provider] server in the host manifest (a server number, name or IPv4 address)');
    return this.toServer(s);
  }

  private async keyFingerprint(publicKey: string): Promise<string> {
    const key = parseOperatorKey(publicKey, 'the operator key');
    const keys = (await this.call<Array<{ key: { fingerprint: string } }>>('listing SSH keys', { method: 'GET', path: '/key' }, [404])) ?? [];
    if (keys.some((k) => k.key.fingerprint === key.md5)) return key.md5;
    await this.call('depositing the operator SSH key', { method: 'POST', path: '/key', body: form([['name', `nixos-bootstrap ${key.md5.replace(/:/g, '').slice(0, 12)}`], ['data', key.line]]) });
    return key.md5;
  }

  /** Delete every active boot configuration (Robot activates one at a time). Returns their kinds. */
  private async clearBootConfigs(server: ProviderServer): Promise<string[]> {
    const r = await this.call<{ boot: Partial<Record<string, { active?: boolean } | null>> }>(`reading the boot configuration of ${server.name}`, { method: 'GET', path: `/boot/${server.id}` });
    const active = ROBOT_BOOT_KINDS.filter((k) => r!.boot[k]?.active === true);
    for (const kind of active) await this.call(`deactivating the ${kind} boot configuration of ${server.name}`, { method: 'DELETE', path: `/boot/${server.id}/${kind}` });
    return active;
  }

  async enableRescue(server: ProviderServer, publicKey: string): Promise<RescueGrant> {
    const fp = await this.keyFingerprint(publicKey);
    const replaced = await this.clearBootConfigs(server);
    const r = await this.call<{ rescue: ApiRescue }>(`activating rescue on ${server.name}`, {
      method: 'POST',
      path: `/boot/${server.id}/rescue`,
      body: form([['os', 'linux'], ['authorized_key[]', fp]]),
    });
    if (r!.rescue.password) registerSecret(r!.rescue.password);
    if (r!.rescue.active !== true) throw failure('provider-action-failed', `${LABEL}: rescue on ${server.name} is not active after activating it`, 'check the server in Robot, then run again with --resume');
    return { keyAuthorized: true, ...(r!.rescue.password ? { rootPassword: r!.rescue.password } : {}), ...(replaced.length ? { replaced } : {}) };
  }

  async reset(server: ProviderServer): Promise<void> {
    const opts = await this.call<{ reset: { type: string[] | string } }>(`reading the reset options of ${server.name}`, { method: 'GET', path: `/reset/${server.id}` });
    const types = ([] as string[]).concat(opts!.reset.type);
    // Only a hardware reset reboots a hung machine: sw needs a working OS, power (the button) asks it to shut down.
    const type = types.includes('hw') ? 'hw' : undefined;
    if (!type) throw failure('provider-no-reset', `${LABEL}: ${server.name} offers no hardware reset (only ${types.join(', ') || 'none'})`, 'reset it in Robot (or order a manual reset), then run again with --from rescue-wait');
    await this.call(`resetting ${server.name}`, { method: 'POST', path: `/reset/${server.id}`, body: form([['type', type]]) });
  }

  async bootFromDisk(server: ProviderServer): Promise<string> {
    const r = await this.call<{ rescue: ApiRescue }>(`reading the rescue state of ${server.name}`, { method: 'GET', path: `/boot/${server.id}/rescue` });
    if (!r!.rescue.active) return 'the rescue activation was used by the boot into it: the next boot is from disk';
    await this.call(`deactivating rescue on ${server.name}`, { method: 'DELETE', path: `/boot/${server.id}/rescue` });
    return 'the rescue activation was still active: deleted, the next boot is from disk';
  }

  async checkCredentials(): Promise<CredentialCheck> {
    try {
      await this.call('listing servers', { method: 'GET', path: '/server' }, [404]);
    } catch (e) {
      const err = e as { message: string; hint?: string };
      return { ok: false, detail: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    }
    return { ok: true, detail: 'the web-service user reads the account\'s servers (rescue and reset have no separate permission in Robot)' };
  }
}

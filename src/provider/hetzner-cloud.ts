/**
 * Hetzner Cloud backend (issue 13), https://docs.hetzner.cloud/ :
 * - auth: `Authorization: Bearer TOKEN` (a project API token; writes need "Read & Write");
 * - errors: `{"error": {"code": "…", "message": "…", "details": …}}` with the HTTP status
 *   (401 unauthorized, 403 forbidden, token_readonly, 404 not_found, 409 conflict (retry) /
 *   uniqueness_error (not), 423 locked (another action runs on the server: retry), protected (not:
 *   documented with 403, the status the API sends it with; read by its code whatever the status),
 *   429 rate_limit_exceeded, 5xx). As hcloud-go's retry policy: 409 and 423 are retried only for
 *   the codes conflict and locked, since both statuses carry other, final codes;
 * - rate limit: RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (unix time) headers; a 429
 *   waits Retry-After when sent, else until RateLimit-Reset (bounded, http.ts);
 * - actions: enable_rescue, reset, poweron, disable_rescue answer 201 `{"action": {id, status}}`;
 *   we poll GET /actions/{id} until status is "success" or "error" (then `action.error`).
 * The rescue system (type linux64) gets our key via `ssh_keys: [id]` (POST /ssh_keys registers it
 * once, found again by its MD5 fingerprint). Rescue mode is disabled by the provider when the
 * server first boots into it; bootFromDisk disables it if it is somehow still armed.
 * Hetzner Cloud exposes no host key and no console log of the rescue system: its key is confirmed
 * by the user (or --host-key).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../context.js';
import { failure } from '../errors.js';
import { registerSecret } from '../redact.js';
import { describeResponse, sendRequest, type HttpClientOptions, type HttpRequest, type HttpResponse } from './http.js';
import { parseOperatorKey } from './ssh-key.js';
import type { CredentialCheck, ProviderServer, RescueGrant, RescueProvider } from './types.js';

export const HETZNER_CLOUD_API = 'https://api.hetzner.cloud/v1';
/** Tests point the backend at a local fake with this; production never sets it. */
export const HETZNER_CLOUD_URL_ENV = 'BOOTSTRAP_TEST_HCLOUD_URL';

interface ApiServer {
  id: number;
  name: string;
  status: string;
  rescue_enabled: boolean;
  public_net?: { ipv4?: { ip: string } | null; ipv6?: { ip: string } | null };
}
interface ApiAction {
  id: number;
  command: string;
  status: 'running' | 'success' | 'error';
  error?: { code: string; message: string } | null;
}

export interface HetznerCloudOptions {
  token: string;
  clock: Clock;
  baseUrl?: string;
  ca?: string;
  signal?: AbortSignal;
  /** How long an action may run (default 5 min) and the pause between polls (default 1 s). */
  actionTimeoutMs?: number;
  pollMs?: number;
}

const LABEL = 'Hetzner Cloud';
const apiError = (res: HttpResponse) => {
  const e = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return { code: typeof e?.code === 'string' ? e.code : undefined, message: typeof e?.message === 'string' ? e.message : undefined };
};

/** The error a failed call becomes: what the API said, and what to do about it. Pure. */
export function mapHetznerCloudError(res: HttpResponse, what: string): Error {
  const { code, message } = apiError(res);
  const said = describeResponse(res, [code, message].filter(Boolean).join(': ') || undefined);
  const m = `${LABEL}: ${what} failed (${said})`;
  if (res.status === 401) return failure('provider-unauthorized', m, 'the API token is wrong or revoked: create one in the Cloud Console (Security → API Tokens) and store it with `bootstrap secrets set NAME/token`');
  if (code === 'token_readonly') return failure('provider-forbidden', m, 'the API token is read-only: a rescue needs a "Read & Write" token of the server\'s project');
  // Before the generic 403: the docs list protected as a 403, so a status test alone would never reach it.
  if (code === 'protected') return failure('provider-protected', m, 'the server is protected against this action: lift the protection in the Cloud Console (Server → Protection) or run without it');
  if (res.status === 403) return failure('provider-forbidden', m, 'the token may not do this (project limits, a resource unavailable); see the message');
  if (res.status === 404) return failure('provider-not-found', m, 'the server (or action) is not in the token\'s project: check [provider] server and that the token belongs to the server\'s project');
  if (code === 'uniqueness_error') return failure('provider-conflict', m, 'a resource of that name or fingerprint already exists in the project (an SSH key named nixos-bootstrap …?): remove or rename it in the Cloud Console, then run again with --resume');
  if (res.status === 409 || res.status === 423) return failure('provider-locked', m, 'another action is running on the server; wait for it to finish, then run again with --resume');
  if (res.status === 429) return failure('provider-rate-limited', m, 'the project\'s API rate limit is used up; wait a few minutes and run again with --resume');
  return failure('provider-error', m, 'Hetzner Cloud failed; check https://status.hetzner.com and run again with --resume');
}

/** ms until RateLimit-Reset (unix seconds). Pure. */
export function rateLimitResetWait(h: IncomingHttpHeaders, nowMs: number): number | undefined {
  const reset = Number(h['ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - nowMs) : undefined;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export class HetznerCloudProvider implements RescueProvider {
  readonly kind = 'hetzner-cloud' as const;
  readonly label = LABEL;
  readonly exposesHostKey = false;
  private readonly http: HttpClientOptions;

  constructor(private readonly o: HetznerCloudOptions) {
    registerSecret(o.token);
    this.http = {
      baseUrl: o.baseUrl ?? HETZNER_CLOUD_API,
      clock: o.clock,
      name: LABEL,
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      now: () => o.clock.now().getTime(),
      busy: (res) => (res.status === 423 && apiError(res).code === 'locked') || (res.status === 409 && apiError(res).code === 'conflict'),
      retryAfter: rateLimitResetWait,
    };
  }

  private async call<T>(what: string, r: HttpRequest): Promise<T> {
    const res = await sendRequest(this.http, {
      ...r,
      headers: { authorization: `Bearer ${this.o.token}`, ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    });
    if (res.status < 200 || res.status > 299) throw mapHetznerCloudError(res, what);
    return res.body as T;
  }

  private toServer(s: ApiServer): ProviderServer {
    return {
      id: String(s.id), name: s.name, status: s.status, rescueEnabled: s.rescue_enabled === true,
      ...(s.public_net?.ipv4?.ip ? { ipv4: s.public_net.ipv4.ip } : {}),
      ...(s.public_net?.ipv6?.ip ? { ipv6: s.public_net.ipv6.ip } : {}),
    };
  }

  async findServer(selector: string): Promise<ProviderServer> {
    if (/^\d+$/.test(selector)) {
      const r = await this.call<{ server: ApiServer }>(`reading server ${selector}`, { method: 'GET', path: `/servers/${selector}` });
      return this.toServer(r.server);
    }
    if (!IPV4.test(selector)) {
      const r = await this.call<{ servers: ApiServer[] }>(`finding server ${selector}`, { method: 'GET', path: `/servers?name=${encodeURIComponent(selector)}` });
      const s = r.servers[0];
      if (!s) throw failure('provider-server-not-found', `${LABEL}: no server named ${selector} in the token's project`, 'check [provider] server in the host manifest (a server id, name or IPv4 address)');
      return this.toServer(s);
    }
    // No filter by address in the API: page through the project's servers.
    for (let page = 1; page <= 100; page++) {
      const r = await this.call<{ servers: ApiServer[]; meta?: { pagination?: { next_page?: number | null } } }>(`listing servers`, { method: 'GET', path: `/servers?page=${page}&per_page=50` });
      const s = r.servers.find((x) => x.public_net?.ipv4?.ip === selector);
      if (s) return this.toServer(s);
      if (!r.meta?.pagination?.next_page) break;
    }
    throw failure('provider-server-not-found', `${LABEL}: no server with the address ${selector} in the token's project`, 'check [provider] server in the host manifest (a server id, name or IPv4 address)');
  }

  /** Poll the action until it ends. @throws failure 'provider-action-failed' | 'provider-action-timeout' */
  private async waitAction(action: ApiAction, what: string): Promise<void> {
    const end = this.o.clock.now().getTime() + (this.o.actionTimeoutMs ?? 5 * 60_000);
    let a = action;
    while (a.status === 'running') {
      if (this.o.clock.now().getTime() > end) throw failure('provider-action-timeout', `${LABEL}: ${what} (action ${a.id}) did not finish in time`, 'check the server in the Cloud Console, then run again with --resume');
      await this.o.clock.sleep(this.o.pollMs ?? 1000);
      a = (await this.call<{ action: ApiAction }>(`reading action ${a.id}`, { method: 'GET', path: `/actions/${a.id}` })).action;
    }
    if (a.status === 'error') {
      throw failure('provider-action-failed', `${LABEL}: ${what} failed: ${a.error?.code ?? 'error'}: ${a.error?.message ?? 'no message'}`, 'check the server in the Cloud Console, then run again with --resume');
    }
  }

  /** The id of our key in the project: found by fingerprint, or registered. */
  private async sshKeyId(publicKey: string): Promise<number> {
    const key = parseOperatorKey(publicKey, 'the operator key');
    const found = await this.call<{ ssh_keys: Array<{ id: number }> }>('finding the operator SSH key', { method: 'GET', path: `/ssh_keys?fingerprint=${encodeURIComponent(key.md5)}` });
    if (found.ssh_keys[0]) return found.ssh_keys[0].id;
    const made = await this.call<{ ssh_key: { id: number } }>('registering the operator SSH key', {
      method: 'POST',
      path: '/ssh_keys',
      body: JSON.stringify({ name: `nixos-bootstrap ${key.md5.replace(/:/g, '').slice(0, 12)}`, public_key: key.line, labels: { 'managed-by': 'nixos-bootstrap' } }),
    });
    return made.ssh_key.id;
  }

  async enableRescue(server: ProviderServer, publicKey: string): Promise<RescueGrant> {
    const keyId = await this.sshKeyId(publicKey);
    const r = await this.call<{ action: ApiAction; root_password?: string | null }>(`enabling rescue on ${server.name}`, {
      method: 'POST',
      path: `/servers/${server.id}/actions/enable_rescue`,
      body: JSON.stringify({ type: 'linux64', ssh_keys: [keyId] }),
    });
    if (r.root_password) registerSecret(r.root_password); // not needed: our key logs in; never printed
    await this.waitAction(r.action, `enabling rescue on ${server.name}`);
    return { keyAuthorized: true, ...(r.root_password ? { rootPassword: r.root_password } : {}) };
  }

  async reset(server: ProviderServer): Promise<void> {
    const now = await this.findServer(server.id);
    const verb = now.status === 'off' ? 'poweron' : 'reset';
    const r = await this.call<{ action: ApiAction }>(`${verb === 'reset' ? 'resetting' : 'powering on'} ${server.name}`, { method: 'POST', path: `/servers/${server.id}/actions/${verb}` });
    await this.waitAction(r.action, `${verb} of ${server.name}`);
  }

  async bootFromDisk(server: ProviderServer): Promise<string> {
    const now = await this.findServer(server.id);
    if (!now.rescueEnabled) return 'rescue mode is off (Hetzner turns it off at the first boot into it): the next boot is from disk';
    const r = await this.call<{ action: ApiAction }>(`disabling rescue on ${server.name}`, { method: 'POST', path: `/servers/${server.id}/actions/disable_rescue` });
    await this.waitAction(r.action, `disabling rescue on ${server.name}`);
    return 'rescue mode was still armed: disabled, the next boot is from disk';
  }

  async checkCredentials(): Promise<CredentialCheck> {
    try {
      await this.call('listing servers', { method: 'GET', path: '/servers?per_page=1' });
    } catch (e) {
      const err = e as { code?: string; message: string; hint?: string };
      return { ok: false, detail: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    }
    return { ok: true, detail: 'the token reads the project\'s servers (a rescue also needs "Read & Write": a read-only token is refused at the first write with token_readonly)' };
  }
}

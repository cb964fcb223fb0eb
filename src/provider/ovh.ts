/**
 * OVHcloud backend (issue 13), https://help.ovhcloud.com/csm/en-gb-api-getting-started-ovhcloud-api :
 * - signed requests: X-Ovh-Application (application key), X-Ovh-Consumer (consumer key),
 *   X-Ovh-Timestamp (the API's clock: GET /auth/time once, then the offset), X-Ovh-Signature =
 *   "$1$" + SHA1_HEX(AS + "+" + CK + "+" + METHOD + "+" + FULL_URL + "+" + BODY + "+" + TIMESTAMP);
 * - errors: `{"errorCode"?, "httpCode"?, "message", "class"?}` (400 INVALID_SIGNATURE, 403
 *   NOT_GRANTED_CALL / NOT_CREDENTIAL / INVALID_KEY / INVALID_CREDENTIAL as python-ovh maps them,
 *   404 Client::NotFound, 409 a task already runs, 429, 460 the service expired (python-ovh's
 *   ResourceExpiredError), 5xx). INVALID_SIGNATURE is also what a body the API could not match to
 *   its signature gets (OVH signs the exact bytes), so its hint names both causes;
 * - dedicated servers: the rescue is a netboot: PUT /dedicated/server/{sn} {"bootId": <rescue boot>,
 *   "rescueSshKey": <our key>}, POST …/reboot (a task, polled at GET …/task/{taskId}); the netboot
 *   stays until it is set back: bootFromDisk sets the harddisk boot. GET …/boot?bootType=rescue lists
 *   several ids in no stated order (the customer rescue, WinRescue — Windows, password by mail — and
 *   retired images); each is read (GET …/boot/{id}: {bootId, bootType, kernel, description}) and the
 *   one whose kernel is the customer rescue (`rescue-customer`, or its versioned `rescueNN-customer`)
 *   is taken, one whose description announces its removal last; none is an error, never a guess;
 * - VPS: PUT /vps/{sn} {"netbootMode": "rescue"}, POST /vps/{sn}/reboot (task at GET
 *   /vps/{sn}/tasks/{id}); OVH mails the VPS rescue's root password (no key through the API):
 *   log in with --password-env; bootFromDisk sets netbootMode "local".
 * The rescue's host key is not exposed: the user confirms it (or --host-key).
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../context.js';
import { failure } from '../errors.js';
import { registerSecret } from '../redact.js';
import { describeResponse, sendRequest, type HttpClientOptions, type HttpResponse } from './http.js';
import type { CredentialCheck, ProviderServer, RescueGrant, RescueProvider } from './types.js';

export const OVH_ENDPOINTS = { 'ovh-eu': 'https://eu.api.ovh.com/1.0', 'ovh-ca': 'https://ca.api.ovh.com/1.0', 'ovh-us': 'https://api.us.ovhcloud.com/1.0' } as const;
export type OvhEndpoint = keyof typeof OVH_ENDPOINTS;
/** Tests point the backend at a local fake with this; production never sets it. */
export const OVH_URL_ENV = 'BOOTSTRAP_TEST_OVH_URL';

export interface OvhOptions {
  applicationKey: string;
  applicationSecret: string;
  consumerKey: string;
  clock: Clock;
  endpoint?: OvhEndpoint;
  baseUrl?: string;
  ca?: string;
  signal?: AbortSignal;
  taskTimeoutMs?: number;
  pollMs?: number;
}

/** The documented signature. Pure. */
export function buildOvhSignature(o: { applicationSecret: string; consumerKey: string; method: string; url: string; body: string; timestamp: number }): string {
  return '$1$' + createHash('sha1').update([o.applicationSecret, o.consumerKey, o.method, o.url, o.body, String(o.timestamp)].join('+')).digest('hex');
}

const LABEL = 'OVHcloud';
const apiError = (res: HttpResponse) => {
  const b = res.body as { errorCode?: unknown; message?: unknown; class?: unknown } | undefined;
  return { code: typeof b?.errorCode === 'string' ? b.errorCode : typeof b?.class === 'string' ? b.class : undefined, message: typeof b?.message === 'string' ? b.message : undefined };
};

/** The error a failed call becomes. Pure. */
export function mapOvhError(res: HttpResponse, what: string): Error {
  const { code, message } = apiError(res);
  const m = `${LABEL}: ${what} failed (${describeResponse(res, [code, message].filter(Boolean).join(': ') || undefined)})`;
  if (code === 'NOT_CREDENTIAL') {
    return failure('provider-unauthorized', m, 'the consumer key is not validated yet (or was revoked): open the validation URL OVHcloud gave when it was created, or create a new one and store it with `bootstrap secrets set NAME/consumer-key`');
  }
  if (code === 'INVALID_SIGNATURE') {
    return failure('provider-unauthorized', m, 'the application secret or consumer key does not match the application key — or the request body was not the one signed (a proxy rewriting requests, a malformed body): check the stored keys (`bootstrap secrets set NAME/application-secret`, …/consumer-key); if `bootstrap doctor` accepts them, the request was altered on its way');
  }
  if (res.status === 460) return failure('provider-expired', m, 'the service has expired (or is suspended) at OVHcloud: renew it in the control panel (Billing → My services), then run again with --resume');
  if (code === 'INVALID_KEY' || code === 'INVALID_CREDENTIAL' || res.status === 401) {
    return failure('provider-unauthorized', m, 'the application key, secret or consumer key is wrong, expired or revoked: create new ones (https://eu.api.ovh.com/createToken/) and store them with `bootstrap secrets set NAME/application-key` (…/application-secret, …/consumer-key)');
  }
  if (res.status === 403) return failure('provider-forbidden', m, 'the consumer key is not granted this call: create one whose rights include GET, PUT and POST on /dedicated/server/* (or /vps/*); `bootstrap doctor` lists what is missing');
  if (res.status === 404) return failure('provider-not-found', m, 'no such service in this OVHcloud account: [provider] server is the service name (e.g. ns3001234.ip-203-0-113.eu or vps-1a2b3c4d.vps.ovh.net)');
  if (res.status === 409) return failure('provider-locked', m, 'a task is already running on the server; wait for it, then run again with --resume');
  if (res.status === 429) return failure('provider-rate-limited', m, 'the API rate limit is used up; wait and run again with --resume');
  return failure('provider-error', m, 'OVHcloud failed; check https://status.ovhcloud.com and run again with --resume');
}

type Family = 'dedicated' | 'vps';

/** GET /dedicated/server/{sn}/boot/{bootId}. */
export interface OvhBoot { bootId: number; bootType?: string; kernel?: string; description?: string }

/**
 * The customer rescue among `boots`: kernel `rescue-customer` or a versioned `rescueNN-customer`;
 * one whose description announces its removal ("[REMOVAL ON …]") only when no other is offered.
 * Never WinRescue (Windows, password by mail) or a `-pro` image. Undefined when none. Pure.
 */
export function pickRescueBoot(boots: OvhBoot[]): number | undefined {
  const customer = boots.filter((b) => /^rescue\d*-customer$/.test(b.kernel ?? ''));
  const retiring = (b: OvhBoot) => /removal on/i.test(b.description ?? '');
  const sorted = [...customer].sort((a, b) => Number(retiring(a)) - Number(retiring(b)) || (a.kernel ?? '').localeCompare(b.kernel ?? '') || a.bootId - b.bootId);
  return sorted[0]?.bootId;
}
const DONE = new Set(['done']);
const FAILED = new Set(['cancelled', 'customerError', 'ovhError', 'error']);

/** The rights a rescue needs, per server family. */
export const OVH_NEEDED_RIGHTS: Record<Family, Array<{ method: string; path: string }>> = {
  dedicated: [{ method: 'GET', path: '/dedicated/server/*' }, { method: 'PUT', path: '/dedicated/server/*' }, { method: 'POST', path: '/dedicated/server/*' }],
  vps: [{ method: 'GET', path: '/vps/*' }, { method: 'PUT', path: '/vps/*' }, { method: 'POST', path: '/vps/*' }],
};

/** Whether an access rule ({method, path with * wildcards}) covers a needed one. Pure. */
export function ruleCovers(rule: { method: string; path: string }, needed: { method: string; path: string }): boolean {
  if (rule.method !== needed.method) return false;
  const re = new RegExp('^' + rule.path.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(needed.path) || re.test(needed.path.replace('/*', '/x/y'));
}

export class OvhProvider implements RescueProvider {
  readonly kind = 'ovh' as const;
  readonly label = LABEL;
  readonly exposesHostKey = false;
  private readonly http: HttpClientOptions;
  private readonly base: string;
  private offset: Promise<number> | undefined;
  private readonly families = new Map<string, Family>();

  constructor(private readonly o: OvhOptions) {
    registerSecret(o.applicationSecret);
    registerSecret(o.consumerKey);
    this.base = (o.baseUrl ?? OVH_ENDPOINTS[o.endpoint ?? 'ovh-eu']).replace(/\/$/, '');
    this.http = { baseUrl: this.base, clock: o.clock, name: LABEL, ...(o.ca ? { ca: o.ca } : {}), ...(o.signal ? { signal: o.signal } : {}), now: () => o.clock.now().getTime() };
  }

  /** The API clock minus ours, in seconds (GET /auth/time, unauthenticated), once per run. */
  private timeOffset(): Promise<number> {
    this.offset ??= (async () => {
      const res = await sendRequest(this.http, { method: 'GET', path: '/auth/time' });
      if (res.status !== 200 || typeof res.body !== 'number') throw mapOvhError(res, 'reading the API time');
      return res.body - Math.floor(this.o.clock.now().getTime() / 1000);
    })();
    return this.offset;
  }

  private async call<T>(what: string, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const timestamp = Math.floor(this.o.clock.now().getTime() / 1000) + (await this.timeOffset());
    const signature = buildOvhSignature({ applicationSecret: this.o.applicationSecret, consumerKey: this.o.consumerKey, method, url: this.base + path, body: text, timestamp });
    const res = await sendRequest(this.http, {
      method, path, ...(body !== undefined ? { body: text } : {}),
      headers: {
        'x-ovh-application': this.o.applicationKey, 'x-ovh-consumer': this.o.consumerKey, 'x-ovh-timestamp': String(timestamp), 'x-ovh-signature': signature,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
    });
    if (res.status < 200 || res.status > 299) throw mapOvhError(res, what);
    return res.body as T;
  }

  async findServer(selector: string): Promise<ProviderServer> {
    const sn = encodeURIComponent(selector);
    let dedicatedError: unknown;
    try {
      const d = await this.call<{ name: string; ip?: string; state?: string; bootId?: number }>(`reading dedicated server ${selector}`, 'GET', `/dedicated/server/${sn}`);
      this.families.set(selector, 'dedicated');
      return { id: d.name, name: d.name, status: d.state ?? 'unknown', rescueEnabled: false, ...(d.ip ? { ipv4: d.ip } : {}) };
    } catch (e) {
      // Not a dedicated server, or a consumer key granted only /vps/*: look for a VPS of that name.
      const code = (e as { code?: string }).code;
      if (code !== 'provider-not-found' && code !== 'provider-forbidden') throw e;
      dedicatedError = e;
    }
    let v: { name: string; state?: string; netbootMode?: string };
    try {
      v = await this.call(`reading VPS ${selector}`, 'GET', `/vps/${sn}`);
    } catch (e) {
      // Neither: the dedicated answer says more when it was a refusal.
      throw (e as { code?: string }).code === 'provider-not-found' && (dedicatedError as { code?: string }).code === 'provider-forbidden' ? dedicatedError : e;
    }
    this.families.set(selector, 'vps');
    return { id: v.name, name: v.name, status: v.state ?? 'unknown', rescueEnabled: v.netbootMode === 'rescue' };
  }

  private family(server: ProviderServer): Family {
    return this.families.get(server.id) ?? 'dedicated';
  }

  private async bootIds(server: ProviderServer, type: 'rescue' | 'harddisk'): Promise<number[]> {
    const ids = await this.call<number[]>(`listing the ${type} boots of ${server.name}`, 'GET', `/dedicated/server/${encodeURIComponent(server.id)}/boot?bootType=${type}`);
    if (!ids.length) throw failure('provider-no-boot', `${LABEL}: ${server.name} offers no ${type} boot`, 'check the server in the OVHcloud control panel');
    return ids;
  }

  /** The customer rescue among the offered rescue boots (read one by one; see the header). */
  private async rescueBootId(server: ProviderServer): Promise<number> {
    const sn = encodeURIComponent(server.id);
    const boots: OvhBoot[] = [];
    for (const id of await this.bootIds(server, 'rescue')) boots.push(await this.call<OvhBoot>(`reading boot ${id} of ${server.name}`, 'GET', `/dedicated/server/${sn}/boot/${id}`));
    const picked = pickRescueBoot(boots);
    if (picked === undefined) {
      throw failure('provider-no-boot', `${LABEL}: ${server.name} offers no customer rescue boot (offered: ${boots.map((b) => `${b.kernel ?? '?'} (${b.bootId})`).join(', ')})`,
        'the Linux customer rescue (kernel rescue-customer) is the one that takes our SSH key; WinRescue and retired images do not. Check the server\'s netboot options in the OVHcloud control panel, or ask OVHcloud support');
    }
    return picked;
  }

  private async waitTask(path: string, what: string): Promise<void> {
    const end = this.o.clock.now().getTime() + (this.o.taskTimeoutMs ?? 10 * 60_000);
    for (;;) {
      const t = await this.call<{ status?: string; state?: string; comment?: string }>(`reading the task of ${what}`, 'GET', path);
      const status = t.status ?? t.state ?? 'unknown';
      if (DONE.has(status)) return;
      if (FAILED.has(status)) throw failure('provider-action-failed', `${LABEL}: ${what} ended "${status}"${t.comment ? `: ${t.comment}` : ''}`, 'check the server in the OVHcloud control panel, then run again with --resume');
      if (this.o.clock.now().getTime() > end) throw failure('provider-action-timeout', `${LABEL}: ${what} did not finish in time (task ${status})`, 'check the server in the OVHcloud control panel, then run again with --resume');
      await this.o.clock.sleep(this.o.pollMs ?? 5000);
    }
  }

  async enableRescue(server: ProviderServer, publicKey: string): Promise<RescueGrant> {
    const sn = encodeURIComponent(server.id);
    if (this.family(server) === 'vps') {
      await this.call(`setting the rescue netboot of ${server.name}`, 'PUT', `/vps/${sn}`, { netbootMode: 'rescue' });
      return { keyAuthorized: false }; // the root password of a VPS rescue arrives by mail
    }
    const bootId = await this.rescueBootId(server);
    await this.call(`setting the rescue netboot of ${server.name}`, 'PUT', `/dedicated/server/${sn}`, { bootId, rescueSshKey: publicKey.trim().split(/\s+/).slice(0, 2).join(' ') });
    return { keyAuthorized: true };
  }

  async reset(server: ProviderServer): Promise<void> {
    const sn = encodeURIComponent(server.id);
    if (this.family(server) === 'vps') {
      const t = await this.call<{ id: number }>(`rebooting ${server.name}`, 'POST', `/vps/${sn}/reboot`);
      return this.waitTask(`/vps/${sn}/tasks/${t.id}`, `the reboot of ${server.name}`);
    }
    const t = await this.call<{ taskId: number }>(`rebooting ${server.name}`, 'POST', `/dedicated/server/${sn}/reboot`);
    return this.waitTask(`/dedicated/server/${sn}/task/${t.taskId}`, `the reboot of ${server.name}`);
  }

  async bootFromDisk(server: ProviderServer): Promise<string> {
    const sn = encodeURIComponent(server.id);
    if (this.family(server) === 'vps') {
      await this.call(`setting the local netboot of ${server.name}`, 'PUT', `/vps/${sn}`, { netbootMode: 'local' });
      return 'netboot set back to local: the next boot is from disk';
    }
    const bootId = (await this.bootIds(server, 'harddisk'))[0]!;
    await this.call(`setting the disk boot of ${server.name}`, 'PUT', `/dedicated/server/${sn}`, { bootId });
    return `netboot set back to the hard disk (boot ${bootId}): the next boot is from disk`;
  }

  async checkCredentials(): Promise<CredentialCheck> {
    let cred: { status?: string; rules?: Array<{ method: string; path: string }>; expiration?: string | null };
    try {
      cred = await this.call('reading the current credential', 'GET', '/auth/currentCredential');
    } catch (e) {
      const err = e as { message: string; hint?: string };
      return { ok: false, detail: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    }
    if (cred.status !== undefined && cred.status !== 'validated') return { ok: false, detail: `the consumer key is ${cred.status}, not validated`, hint: 'validate it at the URL OVHcloud gave when it was created, or create a new one' };
    const rules = cred.rules ?? [];
    const missing = (f: Family) => OVH_NEEDED_RIGHTS[f].filter((n) => !rules.some((r) => ruleCovers(r, n))).map((n) => `${n.method} ${n.path}`);
    const dedicated = missing('dedicated');
    const vps = missing('vps');
    if (dedicated.length && vps.length) {
      return { ok: false, detail: `the consumer key is missing rights: dedicated servers need ${dedicated.join(', ')}; VPS need ${vps.join(', ')}`, hint: 'create a consumer key with those access rules (POST /auth/credential accessRules)' };
    }
    const note = dedicated.length ? ` (dedicated servers would need ${dedicated.join(', ')})` : vps.length ? ` (VPS would need ${vps.join(', ')})` : '';
    return { ok: true, detail: `the consumer key is validated and may reboot into rescue${note}${cred.expiration ? `; it expires ${cred.expiration}` : ''}` };
  }
}

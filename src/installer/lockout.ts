/**
 * The lock-out guard (issue 21): would the evaluated configuration let the operator back in over
 * SSH after it is activated? A VPS is reachable only over SSH once the wipe (install) or the switch
 * (deploy) is done, so a config that disables sshd, moves it off the port or the address bootstrap
 * connects to (ListenAddress), closes that port in the firewall on every interface that exists at
 * first boot, refuses the login user (PermitRootLogin, AllowUsers, DenyUsers, AllowGroups,
 * DenyGroups), or relies on a tailnet the host can never join is refused before anything changes.
 *
 * `ACCESS_APPLY` is applied by `nix eval` to nixosConfigurations.HOST.config (argv from
 * `buildAccessFactsArgv`, run by `runEvalAccessFacts`), `parseAccessFacts` reads its JSON, and the
 * pure `checkLockout` compares those
 * facts with how the operator will connect. Shared by install preflight and deploy: both pass the
 * facts of the configuration about to be activated and get the list of lock-outs, each naming the
 * NixOS option to change.
 */
import { failure, messageOf } from '../errors.js';
import { CommandFailed, type Runner } from '../exec/run.js';
import { NIX_FLAKES } from './build-first.js';
import { checkListenAddresses, type ListenAddress } from './lockout-listen.js';
import { LOGIN_APPLY, parseEvaluatedLogin, parseLoginKeyLine, sshdAdmission, type EvaluatedLogin, type LoginKey, type SshdGate } from './login-keys.js';

export type { ListenAddress } from './lockout-listen.js';

export interface PortRange {
  from: number;
  to: number;
}

export interface TcpRules {
  allowedTCPPorts: number[];
  allowedTCPPortRanges: PortRange[];
}

/** What the evaluated config says about the SSH path into the host. */
export interface AccessFacts {
  /** Every user with authorized keys → the key lines (the same as login.keys). */
  users: Record<string, string[]>;
  /** Who may log in and become root (login-keys.ts LOGIN_APPLY): the install's login check reads it. */
  login: EvaluatedLogin;
  sshd: { enable: boolean; ports: number[]; openFirewall: boolean; permitRootLogin: string | null; listenAddresses: ListenAddress[] };
  firewall: TcpRules & { enable: boolean; trustedInterfaces: string[]; interfaces: Record<string, TcpRules> };
  tailscale: { enable: boolean; authKeyFile: string | null; interfaceName: string };
}

/**
 * nix's --apply over `config`: who may log in and become root (LOGIN_APPLY, the install's login
 * check) and the sshd, firewall and Tailscale options, so ONE evaluation answers the login check,
 * the sshd check and the lock-out guard, and a module that is absent (no tailscale) reads as its
 * NixOS default. authKeyFile may be a path: toString.
 */
export const ACCESS_APPLY =
  `c: let o = c.services.openssh; f = c.networking.firewall; t = c.services.tailscale or { }; tcp = x: { allowedTCPPorts = x.allowedTCPPorts or [ ]; allowedTCPPortRanges = x.allowedTCPPortRanges or [ ]; }; in { login = (${LOGIN_APPLY}) c; sshd = { enable = o.enable; ports = o.ports; openFirewall = o.openFirewall; permitRootLogin = o.settings.PermitRootLogin or null; listenAddresses = map (l: { addr = l.addr or null; port = l.port or null; }) (o.listenAddresses or [ ]); }; firewall = tcp f // { enable = f.enable; trustedInterfaces = f.trustedInterfaces or [ ]; interfaces = builtins.mapAttrs (_: tcp) (f.interfaces or { }); }; tailscale = { enable = t.enable or false; authKeyFile = if (t.authKeyFile or null) == null then null else toString t.authKeyFile; interfaceName = t.interfaceName or "tailscale0"; }; }`;

/**
 * The host's access facts, evaluated (no build), through the given runner (the subprocess door).
 * Shared by install preflight and deploy.
 * @throws failure 'flake-eval-failed' when nix cannot evaluate them
 */
export async function runEvalAccessFacts(run: Runner, o: { flakeDir: string; host: string; signal?: AbortSignal }): Promise<AccessFacts> {
  let facts: AccessFacts | undefined;
  try {
    facts = parseAccessFacts((await run(buildAccessFactsArgv(o.flakeDir, o.host), { cwd: o.flakeDir, ...(o.signal ? { signal: o.signal } : {}), timeoutMs: 10 * 60_000 })).stdout);
  } catch (e) {
    if (!(e instanceof CommandFailed)) throw e;
    throw failure('flake-eval-failed', `the SSH and firewall settings of nixosConfigurations.${o.host} do not evaluate: ${messageOf(e).slice(0, 300)}`, 'fix the configuration, then run again; nothing on the target was touched');
  }
  if (!facts) throw failure('flake-eval-failed', `nix printed no SSH and firewall settings for nixosConfigurations.${o.host}`, 'run again with --debug to see its output');
  return facts;
}

/** argv: the access facts of the host's evaluated config as JSON. */
export function buildAccessFactsArgv(flakeDir: string, host: string): string[] {
  return ['nix', ...NIX_FLAKES, 'eval', '--json', `${flakeDir}#nixosConfigurations."${host}".config`, '--apply', ACCESS_APPLY];
}

const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;

function parseTcp(v: unknown): TcpRules | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const ports = o.allowedTCPPorts;
  const ranges = o.allowedTCPPortRanges;
  if (!Array.isArray(ports) || !ports.every(isPort) || !Array.isArray(ranges)) return undefined;
  const r = ranges.map((x) => x as Record<string, unknown>);
  if (!r.every((x) => x && isPort(x.from) && isPort(x.to))) return undefined;
  return { allowedTCPPorts: ports, allowedTCPPortRanges: r.map((x) => ({ from: x.from as number, to: x.to as number })) };
}

/** nix's JSON → AccessFacts, or undefined when it is not that shape. Pure. */
export function parseAccessFacts(stdout: string): AccessFacts | undefined {
  let v: Record<string, Record<string, unknown>>;
  try {
    v = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
  } catch {
    return undefined;
  }
  const login = parseEvaluatedLogin(JSON.stringify(v?.login ?? null));
  const s = v?.sshd;
  const f = v?.firewall;
  const t = v?.tailscale;
  if (!login || !s || !f || !t) return undefined;
  if (typeof s.enable !== 'boolean' || typeof s.openFirewall !== 'boolean' || !Array.isArray(s.ports) || !s.ports.every(isPort)) return undefined;
  const listen = s.listenAddresses ?? [];
  if (!Array.isArray(listen)) return undefined;
  const listenAddresses: ListenAddress[] = [];
  for (const l of listen as Array<Record<string, unknown>>) {
    if (!l || typeof l !== 'object' || (l.addr !== null && typeof l.addr !== 'string') || (l.port !== null && !isPort(l.port))) return undefined;
    listenAddresses.push({ addr: l.addr as string | null, port: l.port as number | null });
  }
  const global = parseTcp(f);
  if (!global || typeof f.enable !== 'boolean' || !Array.isArray(f.trustedInterfaces) || !f.interfaces || typeof f.interfaces !== 'object') return undefined;
  const interfaces: Record<string, TcpRules> = {};
  for (const [name, rules] of Object.entries(f.interfaces as Record<string, unknown>)) {
    const r = parseTcp(rules);
    if (!r) return undefined;
    interfaces[name] = r;
  }
  if (typeof t.enable !== 'boolean' || typeof t.interfaceName !== 'string' || (t.authKeyFile !== null && typeof t.authKeyFile !== 'string')) return undefined;
  return {
    users: login.keys,
    login,
    sshd: { enable: s.enable, ports: s.ports, openFirewall: s.openFirewall, permitRootLogin: typeof s.permitRootLogin === 'string' ? s.permitRootLogin : null, listenAddresses },
    firewall: { ...global, enable: f.enable, trustedInterfaces: f.trustedInterfaces.filter((x): x is string => typeof x === 'string'), interfaces },
    tailscale: { enable: t.enable, authKeyFile: t.authKeyFile as string | null, interfaceName: t.interfaceName },
  };
}

/** How the operator will connect after the switch. */
export interface AccessExpectation {
  /** The port the manifest's target names (rebuild, status and deploy connect there). */
  port: number;
  /** The user the manifest's target names. */
  user: string;
  /** The operator's login keys; empty when none is known (then the key is not checked here). */
  operatorKeys: readonly LoginKey[];
  /** The users of the evaluated config and their authorized key lines (login-keys.ts). */
  users: Record<string, string[]>;
  /**
   * Network interfaces the host has when the config is activated (install: the probe's NICs at
   * first boot; deploy: the running host's, tailscale0 included once it has joined).
   */
  interfaces: readonly string[];
  /** Whether the host gets a Tailscale auth key (the flake's authKeyFile, or [tailscale] authKey). */
  tailscaleAuthKey: boolean;
  /**
   * The address bootstrap connects to (the manifest target's host, after ssh -G): an IP literal is
   * compared with sshd's ListenAddress; a name cannot be (only warned about). Absent: not checked.
   */
  address?: string;
}

export interface Lockout {
  /**
   * Stable: sshd-disabled, sshd-port, sshd-listen-address, firewall-closed, tailnet-no-auth-key,
   * root-login-refused, login-user-refused, login-key-missing.
   */
  code: string;
  /** What would happen, in one line. */
  message: string;
  /** The NixOS option (or setting) to change. */
  option: string;
}

export interface LockoutCheck {
  lockouts: Lockout[];
  /** Not a lock-out for certain, but worth a line (interfaces the probe did not see). */
  warnings: string[];
  /** Interfaces through which the port is open at first boot ("*" for every interface). */
  openOn: string[];
}

const inRules = (port: number, r: TcpRules) => r.allowedTCPPorts.includes(port) || r.allowedTCPPortRanges.some((x) => x.from <= port && port <= x.to);

/**
 * Would the operator be shut out? Pure.
 * Rules, in the order a connection meets them: sshd runs, listens on the port, the firewall lets
 * the port through on an interface that exists at first boot (globally, through openFirewall, on a
 * trusted interface, or per interface; tailscale0 exists only when the host can join its tailnet),
 * and the login user is allowed in with a key the operator holds.
 */
export function checkLockout(f: AccessFacts, e: AccessExpectation): LockoutCheck {
  const lockouts: Lockout[] = [];
  const warnings: string[] = [];
  // With ListenAddress lines sshd listens only there: on each entry's port, or on every Port.
  const listen = f.sshd.listenAddresses;
  const ports = listen.length ? [...new Set(listen.flatMap((l) => (l.port === null ? f.sshd.ports : [l.port])))] : f.sshd.ports;
  if (!f.sshd.enable) lockouts.push({ code: 'sshd-disabled', message: 'sshd is disabled: nobody can log in over SSH', option: 'services.openssh.enable = true' });
  else if (!ports.includes(e.port)) {
    const option = listen.some((l) => l.port !== null)
      ? `services.openssh.listenAddresses (a port ${e.port} entry, or port = null with services.openssh.ports = [ ${e.port} ])`
      : `services.openssh.ports = [ ${e.port} ]`;
    lockouts.push({ code: 'sshd-port', message: `sshd listens on ${ports.join(', ') || 'no port'}, not on port ${e.port} where bootstrap connects (the check after the install, status, rebuild and deploy connect there)`, option: `${option}, or name port ${ports[0] ?? 22} in the manifest's target` });
  } else if (listen.length) {
    const l = checkListenAddresses(listen.filter((x) => (x.port === null ? f.sshd.ports.includes(e.port) : x.port === e.port)), e);
    if (l.lockout) lockouts.push(l.lockout);
    warnings.push(...l.warnings);
  }
  const openOn: string[] = [];
  if (!f.firewall.enable || f.sshd.openFirewall || inRules(e.port, f.firewall)) openOn.push('*');
  else {
    const ts = f.tailscale.interfaceName;
    const known = new Set(e.interfaces);
    const opening = [...new Set([...f.firewall.trustedInterfaces, ...Object.keys(f.firewall.interfaces).filter((i) => inRules(e.port, f.firewall.interfaces[i]!))])];
    let tailnetOnly = false;
    for (const i of opening) {
      if (i === 'lo') continue; // the operator is not on the host
      if (i === ts && f.tailscale.enable) {
        // Up when the host can join (an auth key) or has joined already (deploy: the interface exists).
        if (e.tailscaleAuthKey || known.has(i)) openOn.push(i);
        else tailnetOnly = true;
      } else if (known.has(i)) openOn.push(i);
      else if (i !== ts) warnings.push(`the firewall opens port ${e.port} on ${i}, an interface the probe did not see (NixOS may name it differently): not counted`);
    }
    if (!openOn.length) {
      if (tailnetOnly) {
        lockouts.push({ code: 'tailnet-no-auth-key', message: `port ${e.port} is open only on ${ts}, and the host gets no Tailscale auth key: it never joins the tailnet`, option: 'services.tailscale.authKeyFile (or [tailscale] authKey in bootstrap.toml)' });
      } else {
        const where = opening.length ? `only on ${opening.join(', ')}, which ${opening.length === 1 ? 'does' : 'do'} not exist at first boot` : 'on no interface';
        lockouts.push({ code: 'firewall-closed', message: `the firewall lets port ${e.port} through ${where}`, option: `services.openssh.openFirewall = true (or networking.firewall.allowedTCPPorts = [ ${e.port} ])` });
      }
    }
  }
  if (e.user === 'root' && (f.sshd.permitRootLogin === 'no' || f.sshd.permitRootLogin === 'forced-commands-only')) {
    lockouts.push({ code: 'root-login-refused', message: `sshd refuses root logins (PermitRootLogin "${f.sshd.permitRootLogin}"), and bootstrap connects as root`, option: 'services.openssh.settings.PermitRootLogin = "prohibit-password"' });
  }
  // AllowUsers, DenyUsers, AllowGroups, DenyGroups (root's PermitRootLogin is the rule above).
  const gate = sshdAdmission({ ...f.login, permitRootLogin: 'prohibit-password' }, e.user);
  if (gate) lockouts.push({ code: 'login-user-refused', message: `sshd refuses ${e.user}, the user bootstrap logs in as: ${gate.why}`, option: gateOption(gate.gate, e.user, f.login.groups[e.user] ?? []) });
  if (e.operatorKeys.length) {
    const mine = new Set(e.operatorKeys.map((k) => k.fingerprint));
    const has = (e.users[e.user] ?? []).some((line) => mine.has(parseLoginKeyLine(line)?.fingerprint ?? ''));
    if (!has) {
      lockouts.push({ code: 'login-key-missing', message: `${e.user} has no authorized key you hold (${e.operatorKeys.map((k) => k.fingerprint).join(', ')})`, option: `users.users.${e.user}.openssh.authorizedKeys.keys` });
    }
  }
  return { lockouts, warnings, openOn };
}

/** The setting to change when sshd's user or group lists keep `user` out. Pure. */
function gateOption(gate: SshdGate, user: string, groups: readonly string[]): string {
  switch (gate) {
    case 'AllowUsers':
      return `services.openssh.settings.AllowUsers (add "${user}")`;
    case 'DenyUsers':
      return `services.openssh.settings.DenyUsers (remove the pattern matching "${user}")`;
    case 'AllowGroups':
      return `services.openssh.settings.AllowGroups (add one of ${user}'s groups${groups.length ? `: ${groups.join(', ')}` : ''}) or users.users.${user}.extraGroups`;
    default:
      return `services.openssh.settings.DenyGroups (remove ${user}'s group)`;
  }
}

/**
 * Whether the verdict depends on the host's interfaces: only when the firewall is on and lets the
 * port through on no interface globally (deploy then reads them from the host; otherwise it need
 * not connect before the build). Pure.
 */
export function needsInterfaces(f: AccessFacts, port: number): boolean {
  return f.firewall.enable && !f.sshd.openFirewall && !inRules(port, f.firewall);
}

/** One line per lock-out, for errors and the journal. Pure. */
export function describeLockouts(ls: readonly Lockout[]): string {
  return ls.map((l) => `${l.message} (change ${l.option})`).join('; ');
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSshKeyPair } from '../keys/ssh-key.js';
import { checkLockout, parseAccessFacts, type AccessExpectation, type AccessFacts } from './lockout.js';
import { parseLoginKeyLine, type EvaluatedLogin } from './login-keys.js';

const mine = parseLoginKeyLine(generateSshKeyPair('me@laptop').publicKey)!;
const other = parseLoginKeyLine(generateSshKeyPair('bob@laptop').publicKey)!;

/** NixOS's defaults with sshd on: what a rendered default.nix evaluates to. */
const login = (o: Partial<EvaluatedLogin> = {}): EvaluatedLogin => ({
  keys: { root: [mine.line] }, groups: { root: ['root'] }, permitRootLogin: 'prohibit-password', allowUsers: null, denyUsers: null, allowGroups: null, denyGroups: null, sudo: true, wheelNeedsPassword: true, nopasswd: [], ...o,
});
const base = (): AccessFacts => ({
  users: { root: [mine.line] },
  login: login(),
  sshd: { enable: true, ports: [22], openFirewall: true, permitRootLogin: 'prohibit-password', listenAddresses: [] },
  firewall: { enable: true, allowedTCPPorts: [], allowedTCPPortRanges: [], trustedInterfaces: [], interfaces: {} },
  tailscale: { enable: false, authKeyFile: null, interfaceName: 'tailscale0' },
});
const expect = (o: Partial<AccessExpectation> = {}): AccessExpectation => ({ port: 22, user: 'root', operatorKeys: [mine], users: { root: [mine.line] }, interfaces: ['eth0'], tailscaleAuthKey: false, ...o });
const codes = (f: AccessFacts, e = expect()) => checkLockout(f, e).lockouts.map((l) => l.code);

test('a rendered default.nix lets the operator in', () => {
  assert.deepEqual(checkLockout(base(), expect()), { lockouts: [], warnings: [], openOn: ['*'] });
});

test('sshd off, or on another port, is a lock-out naming the option', () => {
  const off = base();
  off.sshd.enable = false;
  const r = checkLockout(off, expect());
  assert.deepEqual(r.lockouts.map((l) => [l.code, l.option]), [['sshd-disabled', 'services.openssh.enable = true']]);
  const moved = base();
  moved.sshd.ports = [2222];
  assert.deepEqual(codes(moved), ['sshd-port']);
  assert.match(checkLockout(moved, expect()).lockouts[0]!.option, /services\.openssh\.ports = \[ 22 \]/);
  assert.deepEqual(codes(moved, expect({ port: 2222 })), [], 'the manifest names 2222');
});

test('the firewall: closed everywhere, open globally, by range, on a probed interface, on a trusted one', () => {
  const closed = base();
  closed.sshd.openFirewall = false;
  assert.deepEqual(codes(closed), ['firewall-closed']);
  assert.match(checkLockout(closed, expect()).lockouts[0]!.option, /services\.openssh\.openFirewall = true/);
  assert.deepEqual(codes({ ...closed, firewall: { ...closed.firewall, enable: false } }), [], 'no firewall');
  assert.deepEqual(codes({ ...closed, firewall: { ...closed.firewall, allowedTCPPorts: [22] } }), []);
  assert.deepEqual(codes({ ...closed, firewall: { ...closed.firewall, allowedTCPPortRanges: [{ from: 20, to: 30 }] } }), []);
  const perIf = (name: string) => ({ ...closed, firewall: { ...closed.firewall, interfaces: { [name]: { allowedTCPPorts: [22], allowedTCPPortRanges: [] } } } });
  assert.deepEqual(checkLockout(perIf('eth0'), expect()).openOn, ['eth0']);
  assert.deepEqual(codes(perIf('eth0')), []);
  assert.deepEqual(codes(perIf('lo')), ['firewall-closed'], 'the operator is not on the host');
  const unseen = checkLockout(perIf('enp1s0'), expect());
  assert.deepEqual(unseen.lockouts.map((l) => l.code), ['firewall-closed']);
  assert.match(unseen.warnings[0]!, /enp1s0, an interface the probe did not see/);
  assert.deepEqual(codes({ ...closed, firewall: { ...closed.firewall, trustedInterfaces: ['eth0'] } }), []);
});

test('a host reachable only over tailscale0 needs an auth key, and tailscale itself', () => {
  const ts = base();
  ts.sshd.openFirewall = false;
  ts.firewall.interfaces = { tailscale0: { allowedTCPPorts: [22], allowedTCPPortRanges: [] } };
  ts.tailscale.enable = true;
  const r = checkLockout(ts, expect());
  assert.deepEqual(r.lockouts.map((l) => l.code), ['tailnet-no-auth-key']);
  assert.match(r.lockouts[0]!.option, /services\.tailscale\.authKeyFile/);
  assert.deepEqual(checkLockout(ts, expect({ tailscaleAuthKey: true })), { lockouts: [], warnings: [], openOn: ['tailscale0'] });
  // trustedInterfaces = [ "tailscale0" ] is the common way to write it: the same rule.
  const trusted = { ...ts, firewall: { ...ts.firewall, interfaces: {}, trustedInterfaces: ['tailscale0'] } };
  assert.deepEqual(codes(trusted), ['tailnet-no-auth-key']);
  // Deploy: a host that has joined already has the interface, no auth key needed.
  assert.deepEqual(codes(ts, expect({ interfaces: ['eth0', 'tailscale0'] })), []);
  // Without tailscale enabled the interface never exists.
  assert.deepEqual(codes({ ...ts, tailscale: { ...ts.tailscale, enable: false } }, expect({ tailscaleAuthKey: true })), ['firewall-closed']);
});

test('the login user: root refused by PermitRootLogin, or without a key the operator holds', () => {
  const noRoot = base();
  noRoot.sshd.permitRootLogin = 'no';
  assert.deepEqual(codes(noRoot), ['root-login-refused']);
  assert.deepEqual(codes(noRoot, expect({ user: 'alice', users: { alice: [mine.line] } })), [], 'alice logs in, not root');
  const r = checkLockout(base(), expect({ users: { root: [other.line], alice: [mine.line] } }));
  assert.deepEqual(r.lockouts.map((l) => [l.code, l.option]), [['login-key-missing', 'users.users.root.openssh.authorizedKeys.keys']]);
  assert.deepEqual(codes(base(), expect({ operatorKeys: [] })), [], 'no operator key known: not checked here (preflight refuses a host nobody can log into)');
});

test('ListenAddress: sshd bound only to an address bootstrap does not connect to, to loopback or to a tailnet address is a lock-out naming listenAddresses', () => {
  const at = (...l: Array<[string | null, number | null]>) => {
    const f = base();
    f.sshd.listenAddresses = l.map(([addr, port]) => ({ addr, port }));
    return f;
  };
  const target = expect({ address: '203.0.113.7' });
  assert.deepEqual(codes(at(['203.0.113.7', null]), target), [], 'the target address itself');
  assert.deepEqual(codes(at(['0.0.0.0', null]), target), [], 'every IPv4 address');
  assert.deepEqual(codes(at(['[::]', 22]), target), [], 'every IPv6 address, port given');
  assert.deepEqual(codes(at(['10.0.0.5', null], ['[2001:db8::7]', null]), expect({ address: '2001:db8::7' })), []);
  const other = checkLockout(at(['10.0.0.5', null]), target);
  assert.deepEqual(other.lockouts.map((l) => l.code), ['sshd-listen-address']);
  assert.match(other.lockouts[0]!.message, /only on 10\.0\.0\.5 \(ListenAddress\), not on 203\.0\.113\.7 where bootstrap connects/);
  assert.match(other.lockouts[0]!.option, /^services\.openssh\.listenAddresses \(add \{ addr = "203\.0\.113\.7"; \}/);
  const tailnet = checkLockout(at(['100.101.102.103', null]), target);
  assert.deepEqual(tailnet.lockouts.map((l) => l.code), ['sshd-listen-address']);
  assert.match(tailnet.lockouts[0]!.message, /a tailnet address, and bootstrap connects to 203\.0\.113\.7/);
  assert.deepEqual(codes(at(['100.101.102.103', null]), expect({ address: '100.101.102.103' })), [], 'deploy over the tailnet to that address');
  assert.deepEqual(codes(at(['127.0.0.1', null], ['::1', null]), expect({ address: 'web1.example.com' })), ['sshd-listen-address'], 'loopback only: nobody gets in, whatever the name');
  // A name cannot be compared with an address here: a warning, not a refusal.
  const named = checkLockout(at(['10.0.0.5', null]), expect({ address: 'web1.example.com' }));
  assert.deepEqual(named.lockouts, []);
  assert.match(named.warnings[0]!, /bootstrap connects to web1\.example\.com, a name not compared here: make sure it resolves to 10\.0\.0\.5/);
  // Only the entries serving the port count: the public address listens on another port.
  assert.deepEqual(codes(at(['203.0.113.7', 2222], ['10.0.0.5', 22]), target), ['sshd-listen-address']);
  // A port only listenAddresses names is where sshd listens (Port lines do not apply to it).
  const moved = at(['0.0.0.0', 2222]);
  assert.deepEqual(codes(moved, target), ['sshd-port']);
  assert.match(checkLockout(moved, target).lockouts[0]!.option, /services\.openssh\.listenAddresses \(a port 22 entry/);
  assert.deepEqual(codes(moved, expect({ address: '203.0.113.7', port: 2222 })), []);
});

test('AllowUsers, DenyUsers, AllowGroups, DenyGroups: the login user not admitted is a lock-out naming the setting', () => {
  const gated = (o: Partial<EvaluatedLogin>, user = 'root') => {
    const f = base();
    f.login = login({ groups: { root: ['root'], admin: ['users', 'wheel'] }, ...o });
    return checkLockout(f, expect({ user, users: { root: [mine.line], admin: [mine.line] } })).lockouts.map((l) => [l.code, l.option]);
  };
  assert.deepEqual(gated({ allowUsers: ['admin'] }), [['login-user-refused', 'services.openssh.settings.AllowUsers (add "root")']]);
  assert.deepEqual(gated({ allowUsers: ['admin', 'ro*'] }), []);
  assert.deepEqual(gated({ allowUsers: ['root@10.0.0.*'] }), [], 'a host-qualified pattern admits the user (its address is not known here)');
  assert.deepEqual(gated({ denyUsers: ['root'] }), [['login-user-refused', 'services.openssh.settings.DenyUsers (remove the pattern matching "root")']]);
  assert.deepEqual(gated({ denyUsers: ['root@192.0.2.*'] }), [], 'denied only from elsewhere');
  assert.deepEqual(gated({ allowGroups: ['wheel'] }, 'admin'), []);
  assert.deepEqual(gated({ allowGroups: ['ssh-users'] }, 'admin'), [['login-user-refused', "services.openssh.settings.AllowGroups (add one of admin's groups: users, wheel) or users.users.admin.extraGroups"]]);
  assert.deepEqual(gated({ denyGroups: ['wheel'] }, 'admin'), [['login-user-refused', "services.openssh.settings.DenyGroups (remove admin's group)"]]);
  // DenyUsers is checked before AllowUsers, as sshd does.
  const both = base();
  both.login = login({ allowUsers: ['root'], denyUsers: ['r*'] });
  assert.match(checkLockout(both, expect()).lockouts[0]!.message, /sshd refuses root, the user bootstrap logs in as: DenyUsers lists root \("r\*"\)/);
});

test('nix output parses strictly', () => {
  const text = JSON.stringify({ login: { users: { root: { keys: [mine.line], groups: ['root'] } }, permitRootLogin: 'no', allowUsers: null, denyUsers: ['bob'], allowGroups: null, denyGroups: null, sudo: true, wheelNeedsPassword: true, nopasswd: [] }, sshd: { enable: true, ports: [22], openFirewall: false, permitRootLogin: 'no', listenAddresses: [{ addr: '10.0.0.5', port: null }] }, firewall: { enable: true, allowedTCPPorts: [80], allowedTCPPortRanges: [{ from: 1, to: 2 }], trustedInterfaces: ['tailscale0'], interfaces: { eth0: { allowedTCPPorts: [22], allowedTCPPortRanges: [] } } }, tailscale: { enable: true, authKeyFile: '/run/k', interfaceName: 'tailscale0' } });
  assert.equal(parseAccessFacts(text)?.firewall.interfaces.eth0?.allowedTCPPorts[0], 22);
  assert.deepEqual({ ...parseAccessFacts(text)?.users }, { root: [mine.line] });
  assert.deepEqual(parseAccessFacts(text)?.login.denyUsers, ['bob']);
  assert.deepEqual(parseAccessFacts(text)?.sshd.listenAddresses, [{ addr: '10.0.0.5', port: null }]);
  assert.equal(parseAccessFacts(text.replace('"users":{', '"users":{"x":{"keys":[1],"groups":[]},')), undefined);
  assert.equal(parseAccessFacts(text.replace('"port":null', '"port":"22"')), undefined);
  assert.equal(parseAccessFacts('{"sshd":{}}'), undefined);
  assert.equal(parseAccessFacts(text.replace('"ports":[22]', '"ports":["22"]')), undefined);
  assert.equal(parseAccessFacts('not json'), undefined);
});

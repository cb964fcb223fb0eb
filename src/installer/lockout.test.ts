import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSshKeyPair } from '../keys/ssh-key.js';
import { checkLockout, parseAccessFacts, type AccessExpectation, type AccessFacts } from './lockout.js';
import { parseLoginKeyLine } from './login-keys.js';

const mine = parseLoginKeyLine(generateSshKeyPair('me@laptop').publicKey)!;
const other = parseLoginKeyLine(generateSshKeyPair('bob@laptop').publicKey)!;

/** NixOS's defaults with sshd on: what a rendered default.nix evaluates to. */
const base = (): AccessFacts => ({
  users: { root: [mine.line] },
  sshd: { enable: true, ports: [22], openFirewall: true, permitRootLogin: 'prohibit-password' },
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

test('nix output parses strictly', () => {
  const text = JSON.stringify({ users: { root: [mine.line] }, sshd: { enable: true, ports: [22], openFirewall: false, permitRootLogin: 'no' }, firewall: { enable: true, allowedTCPPorts: [80], allowedTCPPortRanges: [{ from: 1, to: 2 }], trustedInterfaces: ['tailscale0'], interfaces: { eth0: { allowedTCPPorts: [22], allowedTCPPortRanges: [] } } }, tailscale: { enable: true, authKeyFile: '/run/k', interfaceName: 'tailscale0' } });
  assert.equal(parseAccessFacts(text)?.firewall.interfaces.eth0?.allowedTCPPorts[0], 22);
  assert.deepEqual({ ...parseAccessFacts(text)?.users }, { root: [mine.line] });
  assert.equal(parseAccessFacts(text.replace('"users":{', '"users":{"x":[1],')), undefined);
  assert.equal(parseAccessFacts('{"sshd":{}}'), undefined);
  assert.equal(parseAccessFacts(text.replace('"ports":[22]', '"ports":["22"]')), undefined);
  assert.equal(parseAccessFacts('not json'), undefined);
});

/** Deploy's lock-out guard, the pure parts: the host's interfaces and the expectation built from them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLockout, type AccessFacts } from '../../installer/lockout.js';
import { buildDeployExpectation, parseNics } from './guard.js';

const facts = (o: Partial<AccessFacts['firewall']> = {}, ts: Partial<AccessFacts['tailscale']> = {}): AccessFacts => ({
  users: {},
  login: { keys: {}, groups: {}, permitRootLogin: 'prohibit-password', allowUsers: null, sudo: true, wheelNeedsPassword: true, nopasswd: [] },
  sshd: { enable: true, ports: [22], openFirewall: false, permitRootLogin: null, listenAddresses: [] },
  firewall: { enable: true, allowedTCPPorts: [], allowedTCPPortRanges: [], trustedInterfaces: [], interfaces: {}, ...o },
  tailscale: { enable: true, authKeyFile: null, interfaceName: 'tailscale0', ...ts },
});

test('the nics line of the read-state script: names only, nothing a shell could smuggle in', () => {
  assert.deepEqual(parseNics('eth0 lo tailscale0 '), ['eth0', 'lo', 'tailscale0']);
  assert.deepEqual(parseNics(undefined), []);
  assert.deepEqual(parseNics('eth0 $(x) en;p1'), ['eth0']);
});

test('a host already on its tailnet keeps its tailnet-only SSH path without an auth key; one that is not is locked out', () => {
  const f = facts({ trustedInterfaces: ['tailscale0'] });
  const on = checkLockout(f, buildDeployExpectation({ port: 22, user: 'root' }, f, [], ['lo', 'eth0', 'tailscale0']));
  assert.deepEqual(on.lockouts, []);
  assert.deepEqual(on.openOn, ['tailscale0']);
  const off = checkLockout(f, buildDeployExpectation({ port: 22, user: 'root' }, f, [], ['lo', 'eth0']));
  assert.deepEqual(off.lockouts.map((l) => l.code), ['tailnet-no-auth-key']);
  // With an auth key in the new config it joins, so the path counts.
  const keyed = facts({ trustedInterfaces: ['tailscale0'] }, { authKeyFile: '/run/secrets/ts' });
  assert.deepEqual(checkLockout(keyed, buildDeployExpectation({ port: 22, user: 'root' }, keyed, [], ['eth0'])).lockouts, []);
});

test('the port and user are the manifest target\'s: a port the per-interface rules open on an existing NIC passes, on a missing one it does not', () => {
  const f = facts({ interfaces: { eth0: { allowedTCPPorts: [2201], allowedTCPPortRanges: [] } } }, { enable: false });
  f.sshd.ports = [2201];
  const e = buildDeployExpectation({ port: 2201, user: 'admin' }, f, [], ['eth0']);
  assert.equal(e.user, 'admin');
  assert.deepEqual(checkLockout(f, e).lockouts, []);
  assert.deepEqual(checkLockout(f, buildDeployExpectation({ port: 2201, user: 'admin' }, f, [], ['ens3'])).lockouts.map((l) => l.code), ['firewall-closed']);
});

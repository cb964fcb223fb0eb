import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { buildAtticClientConfig, buildAtticPushArgv, buildInstallerNixConf } from './installer-cache.js';

const KEY = 'main:Yzp1Zk9xdmFKbXN0c2V5b2Z0d2V1dGZ1eGZ3c2Z4eWE=';

test('the installer nix.conf adds the cache and trusts its key; a private cache names the netrc', () => {
  assert.equal(
    buildInstallerNixConf({ substituter: 'https://cache.example.org/main', publicKey: KEY, netrc: true }),
    `# Written by nixos-bootstrap for one install: substitute the system from the fleet cache.\nextra-substituters = https://cache.example.org/main\nextra-trusted-public-keys = ${KEY}\nconnect-timeout = 10\nnetrc-file = /root/.config/nix/netrc\n`,
  );
  assert.doesNotMatch(buildInstallerNixConf({ substituter: 'https://c/main', publicKey: KEY, netrc: false }), /netrc/);
});

test("attic's client configuration: one server, the token in a file, valid TOML whatever the path", () => {
  const text = buildAtticClientConfig('https://cache.example.org/', '/run/user/0/nb-install-x/attic "config"/push-token');
  assert.deepEqual(JSON.parse(JSON.stringify(parse(text))), {
    'default-server': 'nixos-bootstrap',
    servers: { 'nixos-bootstrap': { endpoint: 'https://cache.example.org/', 'token-file': '/run/user/0/nb-install-x/attic "config"/push-token' } },
  });
  assert.doesNotMatch(text, /token = /, 'no token value in the file');
  assert.deepEqual(buildAtticPushArgv('/usr/bin/attic', 'main', ['/nix/store/a-x', '/nix/store/b-y']), ['/usr/bin/attic', 'push', 'nixos-bootstrap:main', '/nix/store/a-x', '/nix/store/b-y']);
});

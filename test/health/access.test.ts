/**
 * Issue 18/19: the report of a non-root login. What it cannot read (a root-only netrc, a key file
 * behind a closed directory) is "not checked (needs root)", a warning and never a fail; the same
 * facts as root (or through sudo -n) stay real failures. Pure: fixture output through the parser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHealthChecks } from '../../src/health/checks.js';
import { parseHealthOutput } from '../../src/health/parse.js';
import { worstStatus, type HealthCheck } from '../../src/health/report.js';
import { buildHealthCommand, HEALTH_COMMAND } from '../../src/health/script.js';
import { HEALTHY, expectFor, withSection } from './fixtures.js';

const KEY = { fingerprint: 'SHA256:abc', pinFile: '.bootstrap/known_hosts' };
const run = (out: string) => buildHealthChecks(parseHealthOutput(out), expectFor(), KEY);
const one = (cs: HealthCheck[], id: string) => cs.find((c) => c.id === id)!;

/** The healthy output as `user` saw it: the access section, and the private cache refusing (no netrc). */
function as(access: string[], o: { netrcUnreadable: boolean; keyHidden: boolean }): string {
  let out = HEALTHY.replace('@@nb-health v1\n', `@@nb-health v1\n@@nb-health section access\n${access.join('\n')}\n`);
  out = out.replace(/(- https:\/\/cache\.example\.org\/main\n(?:[a-z_]+=.*\n)*?)http=200/, '$1http=401');
  if (o.netrcUnreadable) out = out.replace('netrc=1 /run/secrets/attic-netrc\n', 'netrc=1 /run/secrets/attic-netrc\nnetrc_readable=0\n');
  if (o.keyHidden) out = withSection('keyfiles', ['- /var/lib/sops-nix/key.txt', 'present=0', ...(o.keyHidden ? ['searchable=0'] : [])], out);
  return out;
}

test('a login without root: the root-only netrc and a hidden key file are "not checked (needs root)" warnings, listed by identity.login', () => {
  const cs = run(as(['uid=1000', 'user=admin', 'sudo_user='], { netrcUnreadable: true, keyHidden: true }));
  assert.deepEqual(cs.filter((c) => c.status === 'fail'), [], 'no false failure');
  assert.equal(worstStatus(cs), 'warn');
  const cache = cs.filter((c) => c.id === 'cache.substituter').find((c) => c.summary.includes('cache.example.org'))!;
  assert.deepEqual([cache.status, cache.summary], ['warn', "https://cache.example.org/main (bootstrap's cache): not checked (needs root): HTTP 401 without /run/secrets/attic-netrc, which only root may read"]);
  assert.match(cache.hint!, /let admin run sudo without a password/);
  assert.deepEqual([one(cs, 'secrets.key-file').status, one(cs, 'secrets.key-file').summary], ['warn', '/var/lib/sops-nix/key.txt: not checked (needs root): a directory on its path is closed to admin']);
  const login = one(cs, 'identity.login');
  assert.deepEqual([login.status, login.summary], ['warn', 'logged in as admin without root (sudo -n refused): 2 checks not checked (needs root): secrets.key-file, cache.substituter']);
  assert.equal(cs.indexOf(login), cs.findIndex((c) => c.id === 'identity.host-key') + 1, 'right after the host key');
});

test('the same facts as root are real failures: a 401 with a readable netrc, a key file that is missing', () => {
  // Root (directly): the script never marks what root reads, and a refusal is the cache's answer.
  const rootCs = run(as(['uid=0', 'user=root', 'sudo_user='], { netrcUnreadable: false, keyHidden: false }).replace('present=1\nmode=600\nowner=root\n', 'present=0\n'));
  assert.equal(one(rootCs, 'secrets.key-file').status, 'fail');
  assert.equal(rootCs.filter((c) => c.id === 'cache.substituter' && c.status === 'fail').length, 1);
  assert.equal(rootCs.find((c) => c.id === 'identity.login'), undefined, 'a root login needs no word');
  // A non-root login whose netrc IS readable (0644): the 401 stands.
  const readable = run(as(['uid=1000', 'user=admin', 'sudo_user='], { netrcUnreadable: false, keyHidden: false }));
  assert.equal(readable.filter((c) => c.id === 'cache.substituter' && c.status === 'fail').length, 1);
  assert.deepEqual([one(readable, 'identity.login').status, one(readable, 'identity.login').summary], ['ok', 'logged in as admin without root (sudo -n refused); no check here needed root']);
  // Through sudo -n: root, and the report says so.
  const sudo = run(as(['uid=0', 'user=root', 'sudo_user=admin'], { netrcUnreadable: false, keyHidden: false }).replace('http=401', 'http=200'));
  assert.deepEqual([one(sudo, 'identity.login').status, one(sudo, 'identity.login').summary], ['ok', 'logged in as admin, checked as root through sudo -n']);
  // An output without the access section (an older script) counts as root.
  assert.equal(parseHealthOutput(HEALTHY).access, null);
});

test('the remote command: root runs the script; another login through sudo -n (never a prompt), else as itself', () => {
  assert.equal(buildHealthCommand('root'), HEALTH_COMMAND);
  assert.equal(buildHealthCommand('admin'), 'sudo -n sh -c : 2>/dev/null && exec sudo -n sh -s || exec sh -s');
});

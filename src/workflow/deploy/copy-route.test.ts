/**
 * The deploy copy's route (copy-route.ts): streamed from here when no cache can be used or the
 * host would refuse its paths (its nix.conf is read only when a cache is configured); from the
 * cache when the host trusts it, pushing what it lacks with attic when the client and the push
 * token are here, and saying why not otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../../config/schema.js';
import type { LoadedConfig } from '../../config/load.js';
import type { RunResult } from '../../exec/run.js';
import type { FetchLike } from '../../storage/attic-api.js';
import { MemorySecretStore } from '../../../test/fakes/memory-store.js';
import { planCopyRoute } from './copy-route.js';
import type { FleetCachePorts } from '../shared/fleet-cache.js';

const KEY = 'main:Yzp1Zk9xdmFKbXN0c2V5b2Z0d2V1dGZ1eGZ3c2Z4eWE=';
const SUB = 'https://cdn.example.org/main';
const TOPLEVEL = '/nix/store/bbbb-nixos-system-web1-25.05';
const okFetch: FetchLike = async () => ({ status: 200, text: async () => JSON.stringify({ substituter_endpoint: SUB, public_key: KEY, is_public: false }) });
const CACHE = { server: 'cachehost', url: 'https://cache.example.org/' };
const TOKENS = { 'attic/cachehost/pull-token': 'PULLTOKEN-xyz-0123456789', 'attic/cachehost/push-token': 'PUSHTOKEN-abc-9876543210' };
const TRUSTING = `substituters = https://cache.nixos.org/ ${SUB}\ntrusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY= ${KEY}\nnetrc-file = /etc/nix/netrc\n`;

function world(o: { cache?: Record<string, unknown>; store?: Record<string, string>; path?: string; conf?: string; attic?: (argv: readonly string[]) => RunResult }) {
  const dir = mkdtempSync(join(tmpdir(), 'nb-cr-'));
  const calls: Array<{ argv: readonly string[]; env?: Record<string, string | undefined> }> = [];
  let confReads = 0;
  const loaded: LoadedConfig = { flakeDir: '/x', file: '/x/bootstrap.toml', exists: true, config: ConfigSchema.parse({ cache: o.cache ?? {} }) };
  const store = new MemorySecretStore(o.store ?? {});
  const ports = {
    loaded, store: async () => store, signal: new AbortController().signal,
    app: {
      env: { PATH: o.path ?? '/nonexistent' },
      run: async (argv: readonly string[], opts?: { env?: Record<string, string | undefined> }) => {
        calls.push({ argv, ...(opts?.env ? { env: opts.env } : {}) });
        return o.attic?.(argv) ?? { argv, code: 0, signal: null, stdout: '', stderr: '', durationMs: 1 };
      },
    },
  } as unknown as FleetCachePorts;
  const plan = (dryRun = false) => planCopyRoute(ports, { host: 'web1', hostFile: 'hosts/web1/default.nix', toplevel: TOPLEVEL, privateDir: dir, dryRun, hostNixConf: async () => { confReads++; return o.conf; } }, okFetch);
  return { plan, calls, dir, confReads: () => confReads, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('no cache configured: streamed, and the host is not even asked for its nix.conf', async () => {
  const w = world({});
  try {
    const r = await w.plan();
    assert.equal(r.from, 'operator');
    assert.match(r.reason, /^no attic cache is configured \(\[cache\] url and server in bootstrap\.toml, `bootstrap cache setup`\)$/);
    assert.equal(w.confReads(), 0);
  } finally {
    w.done();
  }
});

test('a host that does not trust the cache would refuse its paths: streamed, naming what is missing and where to fix it', async () => {
  for (const [conf, why] of [
    [undefined, /it has no \/etc\/nix\/nix\.conf/],
    ['substituters = https://cache.nixos.org/\n', /does not list https:\/\/cdn\.example\.org\/main in substituters/],
    [`substituters = ${SUB}\ntrusted-public-keys = other:AAAA\n`, /does not trust the cache's key main/],
  ] as const) {
    const w = world({ cache: CACHE, store: TOKENS, conf });
    try {
      const r = await w.plan();
      assert.equal(r.from, 'operator');
      assert.match(r.reason, why);
      assert.match(r.reason, /^cache "main" is configured, but web1 would refuse its paths: .*import \.\/cache\.nix in hosts\/web1\/default\.nix/);
      assert.deepEqual(w.calls, [], 'nothing is pushed for a host that would not fetch it');
    } finally {
      w.done();
    }
  }
});

test('a trusting host: what the cache lacks is pushed with attic (token in a 0600 file, in no argv), or streamed when attic or its token is missing', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'nb-cr-bin-'));
  writeFileSync(join(bin, 'attic'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'attic'), 0o755);
  try {
    const w = world({ cache: CACHE, store: TOKENS, conf: TRUSTING, path: bin });
    // --dry-run: the same decision, nothing pushed.
    const dry = await w.plan(true);
    assert.deepEqual([dry.from, dry.missing], ['cache', 'pushed']);
    assert.match(dry.reason, /; what it lacks would be pushed first with attic$/);
    assert.equal(w.calls.length, 0, 'a dry run runs no attic');
    const r = await w.plan();
    assert.deepEqual([r.from, r.missing], ['cache', 'pushed']);
    assert.match(r.reason, /^web1 substitutes from cache "main" \(https:\/\/cdn\.example\.org\/main\); what it lacked was pushed first with attic$/);
    assert.deepEqual(w.calls[0]!.argv, [join(bin, 'attic'), 'push', 'nixos-bootstrap:main', TOPLEVEL]);
    assert.ok(!w.calls[0]!.argv.join(' ').includes('PUSHTOKEN'), 'the token is in no argv');
    const xdg = w.calls[0]!.env!.XDG_CONFIG_HOME!;
    assert.equal(readFileSync(join(xdg, 'push-token'), 'utf8'), TOKENS['attic/cachehost/push-token']);
    assert.equal(statSync(join(xdg, 'push-token')).mode & 0o777, 0o600);
    w.done();

    const noAttic = world({ cache: CACHE, store: TOKENS, conf: TRUSTING });
    const n = await noAttic.plan();
    assert.deepEqual([n.from, n.missing], ['cache', 'streamed']);
    assert.match(n.reason, /paths it lacks are streamed from here \(the attic client is not on PATH to push them first\)/);
    noAttic.done();

    const noToken = world({ cache: CACHE, store: { 'attic/cachehost/pull-token': TOKENS['attic/cachehost/pull-token'] }, conf: TRUSTING, path: bin });
    assert.match((await noToken.plan()).reason, /no push token in the secret store \(attic\/cachehost\/push-token\)/);
    noToken.done();

    const failing = world({ cache: CACHE, store: TOKENS, conf: TRUSTING, path: bin, attic: (argv) => ({ argv, code: 1, signal: null, stdout: '', stderr: 'Error: 403 Forbidden PUSHTOKEN-abc-9876543210', durationMs: 1 }) });
    const f = await failing.plan();
    assert.equal(f.missing, 'streamed');
    assert.match(f.reason, /attic push failed \(exit 1: Error: 403 Forbidden/);
    assert.ok(!f.reason.includes('PUSHTOKEN'), 'the token is redacted from the reason');
    failing.done();
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

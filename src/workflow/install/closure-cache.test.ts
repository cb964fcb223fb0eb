/** Where the closure comes from (issue 20): each reason to stream it from here, and the cache case. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../../config/schema.js';
import type { LoadedConfig } from '../../config/load.js';
import type { RunResult } from '../../exec/run.js';
import type { FetchLike } from '../../storage/attic-api.js';
import { MemorySecretStore } from '../../../test/fakes/memory-store.js';
import { runPrepareClosureSource } from './closure-cache.js';
import type { BuildResult } from './preflight-nix.js';

const KEY = 'main:Yzp1Zk9xdmFKbXN0c2V5b2Z0d2V1dGZ1eGZ3c2Z4eWE=';
const BUILT: BuildResult = { kind: 'local', paths: { disko: '/nix/store/aaaa-disko', toplevel: '/nix/store/bbbb-nixos-system-web1-25.05' } };
const loaded = (cache: Record<string, unknown>): LoadedConfig => ({ flakeDir: '/x', file: '/x/bootstrap.toml', exists: true, config: ConfigSchema.parse({ cache }) });
const CACHE = { server: 'cachehost', url: 'https://cache.example.org/' };
const okFetch: FetchLike = async () => ({ status: 200, text: async () => JSON.stringify({ substituter_endpoint: 'https://cdn.example.org/main', public_key: KEY, is_public: false }) });

function ctx(o: { cache?: Record<string, unknown>; store?: Record<string, string>; path?: string; run?: (argv: readonly string[]) => RunResult }) {
  const secretDir = mkdtempSync(join(tmpdir(), 'nb-cc-'));
  const calls: Array<{ argv: readonly string[]; env?: Record<string, string | undefined> }> = [];
  const store = new MemorySecretStore(o.store ?? {});
  const c = {
    loaded: loaded(o.cache ?? {}),
    app: {
      env: { PATH: o.path ?? '/nonexistent' },
      run: async (argv: readonly string[], opts?: { env?: Record<string, string | undefined> }) => {
        calls.push({ argv, ...(opts?.env ? { env: opts.env } : {}) });
        return o.run?.(argv) ?? { argv, code: 0, signal: null, stdout: '', stderr: '', durationMs: 1 };
      },
    },
    store: async () => store,
    secretDir,
    signal: new AbortController().signal,
  } as unknown as Parameters<typeof runPrepareClosureSource>[0];
  return { c, calls, secretDir, done: () => rmSync(secretDir, { recursive: true, force: true }) };
}

test('no [cache] url/server, no pull token, an unreachable cache: streamed from here, and why', async () => {
  const a = ctx({});
  assert.match((await runPrepareClosureSource(a.c, BUILT, okFetch)).source.reason, /no attic cache is configured/);
  const b = ctx({ cache: CACHE });
  const nb = await runPrepareClosureSource(b.c, BUILT, okFetch);
  assert.deepEqual([nb.source.from, nb.uploads], ['operator', []]);
  assert.match(nb.source.reason, /pull token is not in the secret store \(attic\/cachehost\/pull-token/);
  const down: FetchLike = async () => { throw new Error('ECONNREFUSED'); };
  const d = ctx({ cache: CACHE, store: { 'attic/cachehost/pull-token': 'PULLTOKEN-xyz-0123456789' } });
  const nd = await runPrepareClosureSource(d.c, BUILT, down);
  assert.equal(nd.source.from, 'operator');
  assert.match(nd.source.reason, /could not be read: cannot reach attic/);
  for (const x of [a, b, d]) x.done();
});

test('a private cache: nix.conf and netrc for the installer (0600, in the secret dir); no attic on PATH → streamed, says so', async () => {
  const x = ctx({ cache: CACHE, store: { 'attic/cachehost/pull-token': 'PULLTOKEN-xyz-0123456789' } });
  try {
    const r = await runPrepareClosureSource(x.c, BUILT, okFetch);
    assert.equal(r.source.from, 'cache');
    assert.equal(r.source.missing, 'streamed');
    assert.match(r.source.reason, /substitutes from cache "main" \(https:\/\/cdn\.example\.org\/main\); paths it lacks are streamed from here \(the attic client is not on PATH/);
    assert.deepEqual(r.uploads.map((u) => u.remotePath), ['/root/.config/nix/nix.conf', '/root/.config/nix/netrc']);
    assert.ok(r.uploads.every((u) => u.localPath.startsWith(x.secretDir)));
    assert.match(readFileSync(r.uploads[0]!.localPath, 'utf8'), /extra-substituters = https:\/\/cdn\.example\.org\/main\n/);
    // netrc: the machine of the substituter nix downloads from, not of the API.
    assert.equal(readFileSync(r.uploads[1]!.localPath, 'utf8'), 'machine cdn.example.org\npassword PULLTOKEN-xyz-0123456789\n');
    assert.equal(x.calls.length, 0);
  } finally {
    x.done();
  }
});

test('attic on PATH with the push token: `attic push` with our own config (token in a file), and a failed push still streams', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'nb-cc-bin-'));
  writeFileSync(join(bin, 'attic'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'attic'), 0o755);
  const store = { 'attic/cachehost/pull-token': 'PULLTOKEN-xyz-0123456789', 'attic/cachehost/push-token': 'PUSHTOKEN-abc-0123456789' };
  const ok = ctx({ cache: CACHE, store, path: bin });
  const bad = ctx({ cache: CACHE, store, path: bin, run: (argv) => ({ argv, code: 1, signal: null, stdout: '', stderr: 'Error: PermissionDenied (403): w PUSHTOKEN-abc-0123456789', durationMs: 1 }) });
  try {
    const r = await runPrepareClosureSource(ok.c, BUILT, okFetch);
    assert.equal(r.source.missing, 'pushed');
    assert.deepEqual(ok.calls[0]!.argv, [join(bin, 'attic'), 'push', 'nixos-bootstrap:main', BUILT.paths.disko, BUILT.paths.toplevel]);
    const xdg = ok.calls[0]!.env!.XDG_CONFIG_HOME!;
    assert.ok(xdg.startsWith(ok.secretDir));
    assert.match(readFileSync(join(xdg, 'attic/config.toml'), 'utf8'), /token-file = /);
    assert.equal(readFileSync(join(xdg, 'push-token'), 'utf8'), 'PUSHTOKEN-abc-0123456789');
    assert.ok(!JSON.stringify(ok.calls).includes('PUSHTOKEN'), 'the token is in no argv or env');
    const f = await runPrepareClosureSource(bad.c, BUILT, okFetch);
    assert.equal(f.source.missing, 'streamed');
    assert.match(f.source.reason, /attic push failed \(exit 1: Error: PermissionDenied/);
    assert.doesNotMatch(f.source.reason, /PUSHTOKEN/, 'redacted');
    // Built on the target: nothing to push from here.
    const remote = await runPrepareClosureSource(ok.c, { kind: 'remote' }, okFetch);
    assert.match(remote.source.reason, /the target builds the rest itself/);
  } finally {
    for (const x of [ok, bad]) x.done();
    rmSync(bin, { recursive: true, force: true });
  }
});

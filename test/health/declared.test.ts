/**
 * Declared checks ([health], issue 21): the schema refuses unknown keys and bad values; the script
 * really runs here under sh with the real curl, ss and timeout (a `systemctl` shim stands in for
 * systemd, which does not run here) against a listening HTTP server on loopback, and its output
 * becomes one check per declaration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthSection } from '../../src/config/sections/health.js';
import { ManifestSchema } from '../../src/manifest/schema.js';
import { buildDeclaredScript, listDeclaredChecks, parseDeclaredOutput } from '../../src/health/declared.js';

test('[health]: defaults, unknown keys and bad values refused', () => {
  const h = HealthSection.parse({ units: ['nginx.service'] });
  assert.deepEqual(h, { timeout: 10, units: ['nginx.service'], ports: [], urls: [], commands: [] });
  assert.equal(HealthSection.safeParse({ unit: ['nginx.service'] }).success, false, 'a misspelt key');
  assert.equal(HealthSection.safeParse({ urls: [{ url: 'http://x/', code: 200 }] }).success, false, 'an unknown key of a url check');
  assert.equal(HealthSection.safeParse({ urls: [{ url: 'ftp://x/' }] }).success, false);
  assert.equal(HealthSection.safeParse({ units: ['nginx; rm -rf /'] }).success, false);
  assert.equal(HealthSection.safeParse({ ports: [70000] }).success, false);
  assert.equal(HealthSection.safeParse({ timeout: 0 }).success, false);
  const m = { version: 1, host: 'web1', profile: 'generic-vps', layout: { name: 'single-ext4' }, installDisk: { path: '/dev/vda', sizeBytes: 1 } };
  assert.equal(ManifestSchema.safeParse({ ...m, health: { units: ['a.service'] } }).success, true);
  assert.equal(ManifestSchema.safeParse({ ...m, health: { bogus: 1 } }).success, false);
});

test('the script runs every check with its deadline: one check per declaration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-declared-'));
  const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 503).end(req.url === '/healthz' ? 'all good\n' : 'down\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    // FAKE systemctl: is-active answers from the unit name, as systemd prints it.
    writeFileSync(join(dir, 'systemctl'), '#!/bin/sh\n[ "$1" = is-active ] || exit 2\ncase "$2" in ok.service) echo active ;; *) echo failed; exit 3 ;; esac\n', { mode: 0o755 });
    const checks = listDeclaredChecks(HealthSection.parse({
      timeout: 5,
      units: ['ok.service', 'broken.service'],
      ports: [port, 1],
      urls: [{ url: `http://127.0.0.1:${port}/healthz`, body: 'good' }, { url: `http://127.0.0.1:${port}/healthz`, body: 'missing' }, { url: `http://127.0.0.1:${port}/other` }, { url: 'http://127.0.0.1:1/' }],
      commands: [{ run: 'true' }, { name: 'db ready', run: "echo 'no db' >&2; exit 3" }, { run: 'sleep 5', timeout: 1 }],
    }));
    const script = buildDeclaredScript(checks);
    // Asynchronously: the HTTP server answering curl lives in this process.
    const child = promisify(execFile)('sh', ['-s'], { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH}` } });
    child.child.stdin!.end(script);
    const { stdout } = await child;
    const got = parseDeclaredOutput(checks, stdout).map((c) => `${c.status} ${c.summary}`);
    assert.deepEqual(got, [
      'ok unit ok.service is active',
      'fail unit broken.service is failed',
      `ok something listens on TCP port ${port}`,
      'fail nothing listens on TCP port 1',
      `ok http://127.0.0.1:${port}/healthz answered 200 with the expected body`,
      `fail http://127.0.0.1:${port}/healthz answered 200 without "missing" in its body`,
      `fail http://127.0.0.1:${port}/other answered 503, not 200`,
      got[7]!.startsWith('fail http://127.0.0.1:1/ could not be fetched from the host: ') ? got[7]! : 'url :1 should fail to connect',
      'ok command "true" exited 0',
      'fail command "db ready" exited with 3: no db',
      'fail command "sleep 5": no answer within 1 s',
    ]);
    assert.match(parseDeclaredOutput(checks, '')[0]!.summary, /no answer/, 'a check without a line fails');
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

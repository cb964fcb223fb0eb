/**
 * s3rver on loopback (shared/test-infra.md §4), optionally over TLS with a throwaway certificate
 * (restic needs https, §4b), and a proxy that answers 503 to the first N requests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  port: number;
  /** PEM file of the self-signed certificate when TLS is on. */
  certFile?: string;
  close(): Promise<void>;
}

/** `address`: where it listens (default loopback; the installer lab's bridge so its namespace targets reach it). */
export async function startS3rver(opts: { tls?: boolean; address?: string } = {}): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), 'nb-s3rver-'));
  let tls: { key: string; cert: string } | undefined;
  if (opts.tls) {
    tls = { key: join(dir, 'tls.key'), cert: join(dir, 'tls.crt') };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', tls.key, '-out', tls.cert], { stdio: 'ignore' });
  }
  const { readFileSync } = await import('node:fs');
  const server = new S3rver({
    address: opts.address ?? '127.0.0.1', port: 0, directory: join(dir, 'data'), silent: true,
    ...(tls ? { key: readFileSync(tls.key), cert: readFileSync(tls.cert) } : {}),
  });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `${tls ? 'https' : 'http'}://${opts.address ?? '127.0.0.1'}:${port}`,
    port,
    ...(tls ? { certFile: tls.cert } : {}),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Fault {
  status: number;
  code: string;
  message?: string;
}

/**
 * An HTTP proxy to an http s3rver that answers the first requests with the given S3 errors (as
 * real XML error bodies, so the SDK parses them as it would a store's), then forwards.
 * s3rver itself cannot produce some errors (it never checks SigV4 signatures, has one account).
 */
export async function startFaultProxy(targetPort: number, faults: Fault[]): Promise<{ endpoint: string; faultsServed: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    const fault = faults[count];
    if (fault) {
      count++;
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>${fault.message ?? fault.code}</Message></Error>`);
      });
      return;
    }
    const up = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    faultsServed: () => count,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export const SLOW_DOWN: Fault = { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };

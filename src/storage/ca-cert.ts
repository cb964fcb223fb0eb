/**
 * A storage entry's private CA ([storage.NAME] caCert) on the host. bootstrap trusts it for its
 * own S3 calls (s3-client.ts) and restic runs (--cacert), and the host's services need it too:
 * restic's timer (Go: the system bundle /etc/ssl/certs/ca-certificates.crt) and atticd (Rust,
 * aws-sdk-s3 over rustls with rustls-native-certs: the same system bundle). So the PEM is
 * rendered into the flake next to the module (a CA certificate is public) and added to the
 * system bundle with `security.pki.certificateFiles`, which both read.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { failure, usageError } from '../errors.js';
import { nixRaw, type NixAttrs } from '../nix/serialize.js';
import type { PlannedFile } from '../render/file-plan.js';

/** The CA file as it sits next to a host's modules: its file name and its content. */
export interface HostCaCert {
  /** File name in hosts/HOST/, e.g. storage-ca-minio.pem. */
  fileName: string;
  pem: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/** File name for a storage entry's CA: a Nix path literal needs [A-Za-z0-9._+-]. Pure. */
export function buildCaFileName(storageName: string): string {
  const safe = storageName.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'storage';
  return `storage-ca-${safe}.pem`;
}

/**
 * The certificates of a PEM text, normalised (one block after another, a final newline). Throws
 * a usage error when there is none or one does not parse. Pure.
 */
export function parseCaPem(text: string, where: string): string {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw usageError('bad-ca-cert', `${where} holds no PEM certificate`, 'point caCert at the CA certificate (-----BEGIN CERTIFICATE-----), not a key');
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      throw usageError('bad-ca-cert', `${where} holds a certificate that does not parse`, 'check the PEM file', e);
    }
  }
  return blocks.map((b) => b.replace(/\r\n/g, '\n')).join('\n') + '\n';
}

/** caCert as bootstrap reads it: a relative path is relative to the flake (where bootstrap.toml is). */
export function resolveCaPath(flakeDir: string, caCert: string): string {
  return isAbsolute(caCert) ? caCert : resolve(flakeDir, caCert);
}

/** Read and check a storage entry's CA. Throws `bad-ca-cert` naming the entry. */
export async function readHostCaCert(storageName: string, caPath: string): Promise<HostCaCert> {
  let text: string;
  try {
    text = await readFile(caPath, 'utf8');
  } catch (e) {
    throw failure('bad-ca-cert', `cannot read caCert ${caPath} of [storage.${storageName}]`, 'fix the path in bootstrap.toml', e);
  }
  return { fileName: buildCaFileName(storageName), pem: parseCaPem(text, `caCert ${caPath} of [storage.${storageName}]`) };
}

/** The PEM as a file the tool owns, next to the host's modules. Pure. */
export function buildCaCertFile(hostDir: string, ca: HostCaCert): PlannedFile {
  return { path: `${hostDir}/${ca.fileName}`, content: ca.pem, owner: 'tool' };
}

/** `security.pki.certificateFiles = [ ./storage-ca-NAME.pem ];` for a module next to the file. Pure. */
export function buildCaTrust(ca: HostCaCert | undefined): NixAttrs {
  if (!ca) return {};
  if (!/^[A-Za-z0-9._+-]+$/.test(ca.fileName)) throw new TypeError(`bad CA file name ${ca.fileName}`);
  return { security: { pki: { certificateFiles: [nixRaw(`./${ca.fileName}`)] } } };
}

/** Read and write hosts/HOST/bootstrap.toml. Building the text is pure; reading goes through fs. */
import { hostDir } from '../config/host-dir.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { parseTomlFile, loadConfig } from '../config/load.js';
import { checkHostName } from '../host-name.js';
import { parseWith } from '../config/validate.js';
import { usageError } from '../errors.js';
import { ManifestSchema, type Manifest, type ManifestInput } from './schema.js';

export const MANIFEST_FILE = 'bootstrap.toml';

const HEADER = [
  '# Host manifest written by `bootstrap plan --write`: the choices a rebuild or recovery replays.',
  '# Secrets appear only as references into the secret store, never as values.',
  '',
].join('\n');

/** Drop undefined and null members, since TOML has no null (smol-toml would drop them silently anyway). */
function compact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(compact);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined && x !== null) out[k] = compact(x);
    return out;
  }
  return v;
}

/** Validate and render a manifest as TOML text (stable key order: the schema's). */
export function buildManifestToml(m: ManifestInput): string {
  const valid = parseWith(ManifestSchema, compact(m), MANIFEST_FILE, 'this is a bug in the manifest builder');
  const ordered = Object.fromEntries(
    Object.keys(ManifestSchema.shape)
      .filter((k) => (valid as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, (valid as Record<string, unknown>)[k]]),
  );
  return HEADER + stringify(ordered) + '\n';
}

/** Parse manifest text; `file` names it in errors. */
export function parseManifest(text: string, file: string): Manifest {
  return parseWith(ManifestSchema, parseTomlFile(text, file), file);
}

/** hosts/HOST/bootstrap.toml of a flake (hostsDir from the flake's bootstrap.toml). */
export async function readManifest(flakeDir: string, host: string): Promise<Manifest> {
  checkHostName(host); // `..` must not read the flake's own bootstrap.toml as a manifest
  const { config } = await loadConfig(flakeDir);
  const rel = join(hostDir(config, host), MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(join(flakeDir, rel), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw usageError('no-manifest', `${rel} does not exist`, `run \`bootstrap plan ${host} --write\` (or \`bootstrap new-host\`) first`);
    }
    throw e;
  }
  const m = parseManifest(text, rel);
  if (m.host !== host) throw usageError('invalid-file', `${rel}: host is "${m.host}", expected "${host}"`, `fix the host key in ${rel}`);
  return m;
}

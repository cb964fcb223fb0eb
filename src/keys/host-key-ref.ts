/**
 * A host whose SSH key already lives in 1Password: the key is read from that item instead of
 * being created (issue 11). The reference comes from bootstrap.toml
 * (`[secrets.hosts.web1] sshHostKey = "op://Infra/web1 ssh/private key"`, for a host without a
 * manifest yet) or from the host manifest (`[secrets] sshHostKey = …`, which the keys step
 * records). A manifest reference equal to the store's own reference for the host is the key
 * bootstrap made, not an existing item.
 */
import { hostDir } from '../config/host-dir.js';
import type { LoadedConfig } from '../config/load.js';
import { isBootstrapError, usageError } from '../errors.js';
import { readManifest } from '../manifest/manifest.js';
import { OP_SCHEME } from '../secrets/op-reference.js';
import type { SecretStore } from '../secrets/store.js';
import { hostSecretNames } from './host-keys.js';

export interface HostKeyRef {
  ref: string;
  /** The setting it came from, for messages. */
  where: string;
}

/**
 * Pure: which existing item the host key comes from, or undefined when bootstrap makes (or made)
 * it. `ownRef` is the store's reference for the host key.
 * @throws usageError 'host-key-ref-conflict' | 'host-key-ref-unsupported'
 */
export function planHostKeyRef(host: string, configRef: string | undefined, manifestRef: string | undefined, ownRef: string, dir: string): HostKeyRef | undefined {
  const fromConfig = configRef ? { ref: configRef, where: `bootstrap.toml [secrets.hosts.${host}] sshHostKey` } : undefined;
  const fromManifest = manifestRef && manifestRef !== ownRef ? { ref: manifestRef, where: `${dir}/bootstrap.toml [secrets] sshHostKey` } : undefined;
  if (fromConfig && fromManifest && fromConfig.ref !== fromManifest.ref) {
    throw usageError('host-key-ref-conflict', `${fromConfig.where} and ${fromManifest.where} name different items`, 'keep one of them (the manifest records what the last install used)');
  }
  const chosen = fromConfig ?? fromManifest;
  if (chosen && !chosen.ref.startsWith(OP_SCHEME)) {
    throw usageError('host-key-ref-unsupported', `${chosen.where}: only a 1Password reference (op://…) can name an existing host key`, `remove it to let bootstrap keep the key in the ${'secret store'}, or use [secrets] store = "onepassword"`);
  }
  return chosen;
}

/** The existing item the host's SSH key comes from, if any (reads the manifest when there is one). */
export async function readHostKeyRef(loaded: LoadedConfig, host: string, store: SecretStore): Promise<HostKeyRef | undefined> {
  const configRef = loaded.config.secrets.hosts[host]?.sshHostKey;
  let manifestRef: string | undefined;
  try {
    manifestRef = (await readManifest(loaded.flakeDir, host)).secrets?.sshHostKey;
  } catch (e) {
    if (!(isBootstrapError(e) && e.code === 'no-manifest')) throw e;
  }
  if (!configRef && !manifestRef) return undefined;
  return planHostKeyRef(host, configRef, manifestRef, store.refOf(hostSecretNames(host).sshKey), hostDir(loaded.config, host));
}

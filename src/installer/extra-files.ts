/**
 * The nixos-anywhere --extra-files tree and the LUKS key file, in a 0700 directory on tmpfs that
 * lives only while the install runs:
 *
 *   $XDG_RUNTIME_DIR/nb-install-XXXX/            0700 (else /dev/shm, else os.tmpdir() with a warning)
 *     extra-files/                               0755 — copied to / of the new system with tar -p,
 *       etc/ssh/ssh_host_ed25519_key             0600   so its dirs carry normal system modes
 *       etc/ssh/ssh_host_ed25519_key.pub         0644
 *       var/lib/sops-nix/key.txt                 0600   (the [sops] keyPath)
 *     disk-encryption.key                        0600 — --disk-encryption-keys, outside the tree
 *
 * `buildExtraFilesPlan` is pure; `writeExtraFiles` applies it; `withSecretDir` removes the directory
 * on success, failure, SIGINT, SIGTERM and process exit (secret-dir.ts). With --copy-host-keys no host
 * key goes in the tree: the target keeps its own.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { usageError } from '../errors.js';
import { registerSecret } from '../redact.js';

export interface ExtraFilesInput {
  /** Provisioned host key; absent with --copy-host-keys. */
  hostKey?: { privateKey: string; publicKey: string };
  /** The host's age identity for sops-nix/agenix, installed at `path` on the target. */
  ageKey?: { path: string; identity: string };
  /** LUKS passphrase for disko; written outside the tree. */
  luksPassphrase?: string;
  /** Other secrets placed on the target (0600), e.g. the host's cache and backup secrets. */
  secretFiles?: { path: string; content: string }[];
}

export interface PlannedFile {
  /** Relative to the secret directory. */
  path: string;
  mode: number;
  content: string;
}

export interface ExtraFilesPlan {
  /** Directories inside the tree (relative to the secret directory), parents first, 0755. */
  dirs: string[];
  files: PlannedFile[];
  treeDir: string;
  diskKeyFile?: string;
}

export interface ExtraFilesResult {
  /** --extra-files DIR */
  extraFilesDir: string;
  /** The local file for --disk-encryption-keys, when a LUKS passphrase was given. */
  diskEncryptionKeyFile?: string;
}

const TREE = 'extra-files';
const DISK_KEY = 'disk-encryption.key';

/** `/var/lib/sops-nix/key.txt` → `var/lib/sops-nix/key.txt`, refusing anything that escapes the tree. */
export function buildTreePath(targetPath: string): string {
  const rel = posix.normalize(targetPath).replace(/^\/+/, '');
  if (!targetPath.startsWith('/') || rel === '' || targetPath.split('/').includes('..')) {
    throw usageError('bad-key-path', `"${targetPath}" is not an absolute path on the target`, 'set [sops] keyPath to an absolute path such as /var/lib/sops-nix/key.txt');
  }
  return rel;
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : text + '\n';
}

/** The files and directories to write. Pure. */
export function buildExtraFilesPlan(input: ExtraFilesInput): ExtraFilesPlan {
  const files: PlannedFile[] = [];
  if (input.hostKey) {
    files.push({ path: `${TREE}/etc/ssh/ssh_host_ed25519_key`, mode: 0o600, content: withNewline(input.hostKey.privateKey) });
    files.push({ path: `${TREE}/etc/ssh/ssh_host_ed25519_key.pub`, mode: 0o644, content: withNewline(input.hostKey.publicKey.trim()) });
  }
  if (input.ageKey) files.push({ path: `${TREE}/${buildTreePath(input.ageKey.path)}`, mode: 0o600, content: withNewline(input.ageKey.identity) });
  for (const f of input.secretFiles ?? []) files.push({ path: `${TREE}/${buildTreePath(f.path)}`, mode: 0o600, content: f.content });
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw usageError('bad-key-path', `two secrets would be written to /${f.path.slice(TREE.length + 1)}`, 'set [sops] keyPath to a path other than the SSH host key');
    seen.add(f.path);
  }
  const dirs = new Set<string>([TREE]);
  for (const f of files) {
    for (let d = posix.dirname(f.path); d !== '.' && d !== TREE; d = posix.dirname(d)) dirs.add(d);
  }
  const plan: ExtraFilesPlan = { dirs: [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b)), files, treeDir: TREE };
  if (input.luksPassphrase !== undefined) {
    // disko reads the file as-is: no trailing newline, or it becomes part of the passphrase
    files.push({ path: DISK_KEY, mode: 0o600, content: input.luksPassphrase });
    plan.diskKeyFile = DISK_KEY;
  }
  return plan;
}

/**
 * Write the tree into `secretDir` (which withSecretDir made 0700). Registers every secret with the
 * redactor first, so nothing printed afterwards can show them.
 */
export async function writeExtraFiles(secretDir: string, input: ExtraFilesInput): Promise<ExtraFilesResult> {
  registerSecret(input.hostKey?.privateKey);
  registerSecret(input.ageKey?.identity);
  registerSecret(input.luksPassphrase);
  for (const f of input.secretFiles ?? []) registerSecret(f.content);
  const plan = buildExtraFilesPlan(input);
  for (const d of plan.dirs) {
    await mkdir(join(secretDir, d), { mode: 0o755 });
    await chmod(join(secretDir, d), 0o755); // mkdir's mode is filtered by the umask
  }
  for (const f of plan.files) {
    const path = join(secretDir, f.path);
    // 'wx' + mode: created with the final (or stricter, by umask) mode, never briefly world-readable
    await writeFile(path, f.content, { mode: f.mode, flag: 'wx' });
    await chmod(path, f.mode);
  }
  return {
    extraFilesDir: join(secretDir, plan.treeDir),
    ...(plan.diskKeyFile ? { diskEncryptionKeyFile: join(secretDir, plan.diskKeyFile) } : {}),
  };
}

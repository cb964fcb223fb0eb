/**
 * hosts/HOST/bootstrap.toml: the host manifest (DESIGN.md). It records every choice a rebuild or a
 * recovery needs to redo the install unattended: target, profile, layout and its parameters, the
 * install disk (by-id path, size and serial, checked before any wipe). Optional sections are
 * filled by later commands. Secrets appear only as references, never as values.
 */
import { z } from 'zod';
import { PHASES } from '../nix/phases.js';
import { HealthSection } from '../config/sections/health.js';
import { OP_SCHEME, parseOpReference, showOpReference } from '../secrets/op-reference.js';

const DiskRecord = z
  .object({
    byId: z.string().optional().describe('/dev/disk/by-id path, when the disk has one'),
    path: z.string().describe('the path disko uses (by-id, by-path or /dev/NAME)'),
    sizeBytes: z.number().int().nonnegative(),
    serial: z.string().optional(),
    model: z.string().optional(),
  })
  .strict();

/**
 * A reference into the secret store ("local:secrets/bootstrap/…age", "op://Infra/web1 ssh host
 * key/private key"). op:// references follow 1Password's syntax (names with spaces, ?ssh-format=…;
 * see secrets/op-reference.ts); the others are one token without spaces.
 */
export const SecretRef = z.string().superRefine((text, ctx) => {
  const reason = checkSecretRef(text);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});

/** Pure: why `text` is not a secret reference, or undefined when it is one. Never echoes a non-reference (it may be a value). */
export function checkSecretRef(text: string): string | undefined {
  if (text.startsWith(OP_SCHEME)) {
    const parsed = parseOpReference(text);
    return parsed.ok ? undefined : `${showOpReference(text)} is not a 1Password secret reference: ${parsed.reason}`;
  }
  if (/^(local:|sops:|env:)\S+$/.test(text)) return undefined;
  return 'must be a secret reference (local:…, op://…, sops:… or env:…), never a value';
}

export const LayoutParams = z
  .object({
    name: z.string(),
    swapBytes: z.number().int().nonnegative().optional(),
    hibernate: z.boolean().optional(),
    encrypt: z.boolean().optional(),
    subvolumes: z.array(z.string()).optional().describe('extra btrfs subvolumes besides root, home, nix, log'),
  })
  .strict();

/**
 * [provider] (issue 13): which API boots this host into its rescue system. `credentials` is a secret
 * store name prefix (`bootstrap secrets set NAME/token`, NAME/user + NAME/password for Robot), never a value.
 */
export const ProviderSection = z
  .object({
    kind: z.enum(['hetzner-cloud', 'hetzner-robot', 'ovh']).describe('the provider API: hetzner-cloud (VPS), hetzner-robot (dedicated) or ovh (dedicated and VPS)'),
    endpoint: z.enum(['ovh-eu', 'ovh-ca', 'ovh-us']).optional().describe('ovh: the API region (default ovh-eu)'),
    server: z.string().min(1).describe('the server at the provider: hetzner-cloud an id, name or IPv4 address; hetzner-robot a server number, name or IPv4 address; ovh the service name'),
    credentials: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/, 'must be a secret store name such as providers/hcloud (the token is read from NAME/token)')
      .describe('secret store name prefix of the credentials, e.g. providers/hcloud (hetzner-cloud reads NAME/token; hetzner-robot NAME/user and NAME/password; ovh NAME/application-key, NAME/application-secret, NAME/consumer-key)'),
  })
  .strict()
  .refine((p) => p.endpoint === undefined || p.kind === 'ovh', { message: 'endpoint applies to kind = "ovh" only', path: ['endpoint'] });

/**
 * [login] (issue 18): the user status, the health report, rebuild and recover log in as after the
 * install, when it is not the target's user: a host whose sshd refuses root (PermitRootLogin = "no")
 * is reached as its admin user, who uses `sudo -n` for what needs root. From --login-user, or found
 * by preflight in the evaluated config (the user holding the operator's key).
 */
export const LoginSection = z
  .object({
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name: lower case letters, digits, "_" and "-", at most 32 characters')
      .describe('the user to log in as, e.g. "admin"'),
  })
  .strict();

export const ManifestSchema = z
  .object({
    version: z.literal(1),
    host: z.string(),
    target: z.string().optional().describe('user@host[:port] the host is installed through'),
    profile: z.string(),
    layout: LayoutParams,
    installDisk: DiskRecord,
    secondDisk: DiskRecord.optional(),
    secrets: z.record(z.string(), SecretRef).optional().describe('name → secret store reference'),
    cache: z
      .object({
        enable: z.boolean().default(true),
        substituter: z.string().optional(),
        publicKey: z.string().optional().describe('the cache signing key (public half)'),
      })
      .strict()
      .optional(),
    backup: z
      .object({
        enable: z.boolean().default(true),
        repository: z.string().optional(),
        paths: z.array(z.string()).optional(),
        exclude: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    health: HealthSection.optional().describe('checks deploy, status and the after-install report run on the host (issue 21)'),
    tailscale: z
      .object({ name: z.string().min(1).describe("the host's tailnet DNS name, e.g. web1.tail1234.ts.net") })
      .strict()
      .optional()
      .describe('issue 21: how the host is reached over its tailnet, recorded at install'),
    provider: ProviderSection.optional().describe('the hosting provider API that can boot the host into rescue (issue 13)'),
    login: LoginSection.optional().describe('who the operator logs in as once the host is installed, when not the target user (issue 18)'),
    ssh: z
      .object({
        config: z
          .string()
          .min(1)
          .describe('the ssh_config(5) file the target is resolved with (ssh -F): relative to the flake root, ~/… under the operator\'s home, or absolute'),
      })
      .strict()
      .optional()
      .describe('issue 20: the route to the host, from --ssh-config at install; later runs resolve the target with it'),
    install: z
      .object({
        identity: z
          .enum(['provisioned', 'copy-target-keys'])
          .default('provisioned')
          .describe('provisioned: the host key kept in the secret store; copy-target-keys: keep the keys the target has (nixos-anywhere --copy-host-keys)'),
        kexec: z.boolean().optional().describe('boot the installer via kexec (targets not already in a NixOS installer)'),
        diskEncryptionKey: SecretRef.optional(),
        postKexecPort: z.number().int().min(1).max(65535).optional().describe("the port the kexec installer's sshd listens on (default 22)"),
        phaseTimeouts: z
          .partialRecord(z.enum(PHASES), z.string())
          .optional()
          .describe('per-phase time limits, e.g. { install = "2h" }'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;
export type ManifestDisk = z.infer<typeof DiskRecord>;

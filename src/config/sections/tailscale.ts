/**
 * [tailscale] (issue 21): a host whose only SSH path is its tailnet must join it on first boot, so
 * the install delivers a Tailscale auth key the way it delivers the OpNix token (0600, through the
 * --extra-files tree) and a new host's default.nix reads it with services.tailscale.authKeyFile
 * (lib.mkDefault: a flake that sets its own wins). `tailnet` is the tailnet's DNS name; the host
 * manifest records HOST.TAILNET for later status and deploy.
 */
import { z } from 'zod';
import { SecretRef } from '../../manifest/schema.js';

export const TAILSCALE_DEFAULT_KEY_PATH = '/var/lib/bootstrap/tailscale-auth-key';

export const tailscaleSection = z
  .object({
    authKey: SecretRef.optional().describe('secret store reference of the auth key hosts join with, e.g. "op://Infra/tailscale/credential" (never the key)'),
    authKeyPath: z
      .string()
      .regex(/^\/[^\0\n]*[^/]$/, 'must be an absolute file path on the host')
      .default(TAILSCALE_DEFAULT_KEY_PATH)
      .describe("where the auth key lands on the host (0600): services.tailscale.authKeyFile"),
    tailnet: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'must be the tailnet DNS name, e.g. "tail1234.ts.net"')
      .optional()
      .describe('the tailnet DNS name (MagicDNS), e.g. "tail1234.ts.net": hosts are recorded as HOST.TAILNET'),
  })
  .strict()
  .prefault({});

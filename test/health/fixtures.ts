/**
 * Health fixtures: the script output of a healthy host (fixtures/healthy.out, a luks-btrfs host
 * with sops-nix, a private cache and a restic timer), variants of it, and the expectations
 * bootstrap would derive for it from the flake.
 */
import { readFileSync } from 'node:fs';
import { ConfigSchema } from '../../src/config/schema.js';
import { buildExpectations, type HealthContext, type HealthExpectations } from '../../src/health/expect.js';
import type { Manifest } from '../../src/manifest/schema.js';

export const HEALTHY = readFileSync(new URL('./fixtures/healthy.out', import.meta.url), 'utf8');
export const BUILT = '/nix/store/7ahnzbc1b4sppi1yqgknw4vl3rs2p4wl-nixos-system-web1-24.11.20241201';
export const CACHE_KEY = 'main:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=';

export function manifestFor(over: Partial<Manifest> = {}): Manifest {
  return {
    version: 1,
    host: 'web1',
    target: 'root@203.0.113.7',
    profile: 'generic-vps',
    layout: { name: 'luks-btrfs', encrypt: true, swapBytes: 2 * 2 ** 30, subvolumes: ['containers'] },
    installDisk: { path: '/dev/disk/by-id/virtio-1', byId: '/dev/disk/by-id/virtio-1', sizeBytes: 40e9 },
    cache: { enable: true, substituter: 'https://cache.example.org/main', publicKey: CACHE_KEY },
    backup: { enable: true },
    ...over,
  };
}

export function expectFor(over: Partial<Manifest> = {}, context: HealthContext = 'status', built: string | null = BUILT): HealthExpectations {
  return buildExpectations('web1', manifestFor(over), ConfigSchema.parse({}), built, context);
}

/** The healthy output with one section's lines replaced. */
export function withSection(name: string, lines: string[], text = HEALTHY): string {
  const re = new RegExp(`(@@nb-health section ${name}\\n)[\\s\\S]*?(?=@@nb-health (section|end))`);
  return text.replace(re, `$1${lines.map((l) => l + '\n').join('')}`);
}

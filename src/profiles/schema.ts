/**
 * Hardware profiles: data files in hardware-profiles/*.toml, validated here. A profile says when it
 * applies (`[match]`, every rule given must hold) and what it adds to the host (`[contributes]`).
 * Module settings are structured data (TOML tables) rendered by the Nix serializer, never text.
 */
import { z } from 'zod';
import { ARCHES } from '../probe/report.js';

export const GPU_KINDS = ['nvidia', 'amd', 'intel'] as const;
export type GpuKind = (typeof GPU_KINDS)[number];

/** Named, code-backed contributions that need values from the report. */
export const RECIPES = ['nvidia-prime-offload', 'nvidia-desktop', 'static-ipv6-fe80-gateway'] as const;
export type Recipe = (typeof RECIPES)[number];

const regex = z.string().refine((s) => {
  try {
    new RegExp(s, 'i');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

export const MatchSchema = z
  .object({
    virtualization: z.array(z.string()).min(1).optional().describe('systemd-detect-virt names, any of'),
    arch: z.array(z.enum(ARCHES)).min(1).optional(),
    firmware: z.enum(['uefi', 'bios']).optional(),
    dmiVendor: z.string().min(1).optional().describe('case-insensitive substring of the DMI system vendor'),
    dmiVendorRegex: regex.optional(),
    dmiProduct: z.string().min(1).optional().describe('case-insensitive substring of the DMI product name'),
    dmiProductRegex: regex.optional(),
    chassis: z.array(z.string()).min(1).optional().describe('DMI chassis names, any of (case-insensitive)'),
    cpuVendor: z.array(z.string()).min(1).optional().describe('intel, amd, arm: any of'),
    battery: z.boolean().optional(),
    gpuVendors: z.array(z.enum(GPU_KINDS)).min(1).optional().describe('every one must be present (PCI class 03xx)'),
    hybridGraphics: z.boolean().optional().describe('an NVIDIA GPU next to an integrated Intel or AMD one'),
    rescue: z.boolean().optional().describe('the target runs a hoster rescue system'),
    ipv6Gateway: z.string().optional().describe('the default IPv6 route goes via this gateway'),
  })
  .strict();

export type MatchRules = z.infer<typeof MatchSchema>;
export type MatchRuleName = keyof MatchRules;

/** A Nix value in TOML: scalars, lists and tables (nested option paths). */
export type ProfileValue = string | number | boolean | ProfileValue[] | { [k: string]: ProfileValue };
const ProfileValueSchema: z.ZodType<ProfileValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.array(ProfileValueSchema), z.record(z.string(), ProfileValueSchema)]),
);

export const BOOT_LOADERS = ['grub', 'systemd-boot', 'grub-hybrid'] as const;
export type BootLoaderChoice = (typeof BOOT_LOADERS)[number];

export const ContributesSchema = z
  .object({
    bootLoader: z.enum(BOOT_LOADERS).optional().describe('default: systemd-boot on UEFI, grub on BIOS'),
    layouts: z.array(z.string()).default([]).describe('preferred disko layouts, first that fits the disks wins'),
    initrdModules: z.array(z.string()).default([]),
    kernelModules: z.array(z.string()).default([]),
    kernelParams: z.array(z.string()).default([]),
    nixosHardware: z.string().optional().describe('suggested nixos-hardware module, e.g. "common-cpu-amd"'),
    recipes: z.array(z.enum(RECIPES)).default([]),
    module: z.record(z.string(), ProfileValueSchema).default({}).describe('NixOS options, as nested TOML tables'),
  })
  .strict();

export const ProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    description: z.string(),
    priority: z.number().int().default(0).describe('breaks ties between equal scores (higher wins)'),
    match: MatchSchema,
    contributes: ContributesSchema.prefault({}),
  })
  .strict();

export type Profile = z.infer<typeof ProfileSchema>;
export type ProfileContribution = z.infer<typeof ContributesSchema>;

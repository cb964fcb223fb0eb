/**
 * HealthFacts: what the health script saw on a host, as data (zod). parse.ts builds it from the
 * script's output; checks.ts judges it. Fields are null when the host could not tell (a missing
 * tool, an unreadable file): a check then says "cannot tell" instead of guessing.
 */
import { z } from 'zod';

const Mount = z.object({ target: z.string(), source: z.string(), fstype: z.string(), options: z.array(z.string()) });
const Swap = z.object({ name: z.string(), type: z.string(), sizeBytes: z.number().nullable() });
const Space = z.object({ mount: z.string(), device: z.string(), sizeKiB: z.number(), availKiB: z.number(), usePercent: z.number() });
const KeyFile = z.object({
  path: z.string(),
  present: z.boolean(),
  mode: z.string().nullable(),
  owner: z.string().nullable(),
  /** false: absent to a non-root login, behind a directory it may not search (issue 18). */
  searchable: z.boolean().optional(),
});

/** Who ran the script (issue 18): uid 0 is root (sudoUser set when through `sudo -n`). */
export const AccessFacts = z.object({ uid: z.number().nullable(), user: z.string().nullable(), sudoUser: z.string().nullable() });
const FileState = z.object({ path: z.string(), present: z.boolean() });

export const SopsManifestFacts = z.object({
  manifest: z.string(),
  /** The manifest's secrets and templates (name, path), from its JSON; null when unreadable. */
  secrets: z.array(z.object({ name: z.string(), path: z.string() })).nullable(),
  symlinkPath: z.string().nullable(),
  /** Where symlinkPath points (/run/secrets.d/N), null when it is not a symlink. */
  symlinkTarget: z.string().nullable(),
  /** When symlinkPath was last relinked (seconds): sops-install-secrets' last success. */
  symlinkEpoch: z.number().nullable().default(null),
  /** Existence of every "path" the manifest names, as the host saw it. */
  paths: z.array(FileState),
});

export const AgenixSecretFacts = z.object({
  source: z.string(),
  /** Where agenix decrypts it (the generation directory, or the path itself). */
  truePath: FileState.nullable(),
  /** The configured path when it differs from secretsDir/NAME (a symlink agenix makes). */
  link: FileState.nullable(),
});

export const SubstituterProbe = z.object({
  url: z.string(),
  skipped: z.boolean(),
  curlExit: z.number().nullable(),
  http: z.number().nullable(),
  storeDir: z.string().nullable(),
});

export const BackupTimerFacts = z.object({
  unit: z.string(),
  active: z.string().nullable(),
  next: z.string().nullable(),
  last: z.string().nullable(),
  serviceActive: z.string().nullable(),
  serviceResult: z.string().nullable(),
  serviceExitStatus: z.number().nullable(),
  serviceExitedAt: z.string().nullable(),
  /** The service's InvocationID: empty when it has not run since boot. */
  serviceInvocation: z.string().nullable().default(null),
  /** The newest result PID 1 logged for the service (the journal outlives a reboot); null when none. */
  journal: z.object({ result: z.string(), atEpoch: z.number().nullable() }).nullable().default(null),
});

const BootFiles = z.object({ kernel: z.string().nullable(), initrd: z.string().nullable(), kernelModules: z.string().nullable() });

export const HealthFactsSchema = z.object({
  /** The output reached its end marker (a dropped connection leaves it false). */
  complete: z.boolean(),
  system: z.object({
    state: z.string().nullable(),
    /** null when systemctl is missing. */
    failedUnits: z.array(z.string()).nullable(),
    bootEpoch: z.number().nullable(),
    nowEpoch: z.number().nullable(),
    kernel: z.string().nullable(),
    hostname: z.string().nullable(),
    os: z.object({ id: z.string().nullable(), variant: z.string().nullable(), version: z.string().nullable() }),
    currentSystem: z.string().nullable(),
    bootedSystem: z.string().nullable(),
    /** The system profile's generation number (system-42-link → 42). */
    generation: z.number().nullable(),
    profileSystem: z.string().nullable(),
    efi: z.boolean().nullable(),
    /** When /run/current-system was last linked (the last activation), seconds. */
    currentEpoch: z.number().nullable().default(null),
    /** kernel, initrd, kernel-modules of /run/booted-system and /run/current-system (resolved). */
    bootFiles: z.object({ booted: BootFiles, current: BootFiles }).default({ booted: { kernel: null, initrd: null, kernelModules: null }, current: { kernel: null, initrd: null, kernelModules: null } }),
    /** The default system's specialisations (name, resolved toplevel). */
    specialisations: z.array(z.object({ name: z.string(), path: z.string() })).default([]),
    /** system.configurationRevision of the running system; null when the flake sets none. */
    revision: z.string().nullable().default(null),
    /** When the system profile's current generation link was made (seconds). */
    profileEpoch: z.number().nullable().default(null),
  }),
  /** nixos-upgrade.service (system.autoUpgrade), as systemctl shows it; null when the host has none or no systemctl. */
  autoUpgrade: z.object({ result: z.string().nullable(), lastRun: z.string().nullable(), active: z.string().nullable() }).nullable().default(null),
  mounts: z.array(Mount).nullable(),
  /** /etc/fstab entries (what an automount mounts on access); null when unreadable. */
  fstab: z.array(Mount).nullable().default(null),
  swaps: z.array(Swap).nullable(),
  cryptDevices: z.array(z.string()),
  space: z.array(Space).nullable(),
  time: z.object({ ntp: z.boolean().nullable(), synchronized: z.boolean().nullable() }).nullable(),
  keyFiles: z.array(KeyFile),
  sops: z.array(SopsManifestFacts),
  agenix: z
    .object({ script: z.string(), secretsDir: z.string().nullable(), generation: z.string().nullable(), secrets: z.array(AgenixSecretFacts) })
    .nullable(),
  cache: z.object({
    confFound: z.boolean(),
    substituters: z.array(z.string()),
    trustedPublicKeys: z.array(z.string()),
    netrc: FileState.nullable(),
    /** `include` files nix.conf names that are missing (Nix refuses to start then). */
    includeMissing: z.array(z.string()).default([]),
    /** false: the netrc exists but the login may not read it, so the probes went without it. */
    netrcReadable: z.boolean().optional(),
    /** null when curl is missing on the host. */
    probes: z.array(SubstituterProbe).nullable(),
  }),
  /** null when systemctl is missing. */
  backups: z.array(BackupTimerFacts).nullable(),
  diagnostics: z.array(z.string()),
  /** Absent from older outputs: taken as root. */
  access: AccessFacts.nullable().optional(),
});

export type HealthFacts = z.infer<typeof HealthFactsSchema>;
export type SopsManifest = z.infer<typeof SopsManifestFacts>;
export type BackupTimer = z.infer<typeof BackupTimerFacts>;
export type Access = z.infer<typeof AccessFacts>;

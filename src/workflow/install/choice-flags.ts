/**
 * How each install choice is given on the command line: its flag, one-letter alias, placeholder and
 * help line. Split from the choice table (choices.ts, which adds the zod schemas, the manifest keys
 * and the checks) so the command specs, `--help` and the completions read these lines without
 * loading zod or the layout catalogue (issue 22: help loads only what it prints).
 */
import { resolve } from 'node:path';
import { usageError } from '../../errors.js';
import { describeDefaultTimeouts, parsePhaseTimeoutFlags } from '../../nix/phases.js';

/** The routes of --kexec-from (installer/kexec-route.ts KEXEC_FROM; repeated here so --help loads no installer code). */
export const KEXEC_FROM = ['local', 'url', 'cache'] as const;

/** A flag's name (`--name`), its one-letter alias and its line in `--help`. */
interface FlagBase {
  name: string;
  short?: string;
  help: string;
  /** The fixed values it takes, for completions (free text when unset). */
  choices?: readonly string[];
}

/** How a choice is given on the command line. */
export type ChoiceFlag =
  /** Given only as `--flag`; absent leaves the answer unset, so an answers file's value stands. */
  | (FlagBase & { kind: 'boolean' })
  /** One value; `parse` turns the text into the answer (and refuses bad text with a usage error). */
  | (FlagBase & { kind: 'string'; placeholder: string; parse?: (text: string) => unknown })
  /** A whole number in [min, max], refused with the flag's name otherwise. */
  | (FlagBase & { kind: 'integer'; placeholder: string; min: number; max: number })
  /** Given any number of times; `parse` turns the list into the answer. */
  | (FlagBase & { kind: 'repeatable'; placeholder: string; parse?: (texts: string[]) => unknown })
  /** The command's HOST argument, not a flag (the answers file still has the key). */
  | { kind: 'positional'; name: string };

export const BUILD_ON = ['auto', 'local', 'remote'] as const;

/** In the choice table's order (choices.ts INSTALL_CHOICES has exactly these keys). */
export const CHOICE_FLAGS = {
  host: { kind: 'positional', name: 'HOST' },
  target: { kind: 'string', name: 'target', short: 't', placeholder: 'USER@HOST[:PORT]', help: 'the machine to install' },
  identity: { kind: 'string', name: 'identity', short: 'i', placeholder: 'FILE', help: 'private key to log in with (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)' },
  hostKey: { kind: 'string', name: 'host-key', placeholder: 'SHA256:…', help: 'pin the target host key fingerprint without asking' },
  acceptNewHostKey: { kind: 'boolean', name: 'accept-new-host-key', help: 'trust an unknown host key on first contact (for scripts)' },
  timeout: { kind: 'string', name: 'timeout', placeholder: 'SECONDS', help: 'connect timeout in seconds, fractions allowed (default 10)', parse: Number },
  passwordEnv: { kind: 'string', name: 'password-env', placeholder: 'VAR', help: 'read an SSH password from this environment variable (installer ISOs)' },
  sshConfig: { kind: 'string', name: 'ssh-config', placeholder: 'FILE', help: "ssh config to resolve the target with, as `ssh -F FILE -G` does (default ~/.ssh/config: HostName, Port, User, IdentityFile, IdentityAgent, ProxyJump); recorded as the manifest's [ssh] config for later runs (rebuild, recover: the recorded one unless given)" },
  profile: { kind: 'string', name: 'profile', placeholder: 'NAME', help: 'hardware profile (default: the best match)' },
  layout: { kind: 'string', name: 'layout', placeholder: 'NAME', help: "disk layout (default: the profile's)" },
  disk: { kind: 'string', name: 'disk', placeholder: 'ID', help: 'install disk: by-id path, kernel name or /dev path (needed when several fit)' },
  secondDisk: { kind: 'string', name: 'second-disk', placeholder: 'ID', help: 'second disk for two-disk layouts' },
  swap: { kind: 'string', name: 'swap', placeholder: 'SIZE', help: 'swap size, e.g. 8G or 0 (default: from memory)' },
  hibernate: { kind: 'boolean', name: 'hibernate', help: 'swap large enough to hibernate, used as the resume device' },
  encrypt: { kind: 'boolean', name: 'encrypt', help: 'encrypted layout (LUKS); default layout luks-btrfs' },
  subvolumes: { kind: 'repeatable', name: 'subvolume', placeholder: 'NAME[=PATH]', help: 'extra btrfs subvolume' },
  loginKeys: { kind: 'repeatable', name: 'login-key', placeholder: 'KEY|FILE.pub|REF', help: "a public key that may log in as root on the installed host: a key line, a .pub file, or a secret store reference (op://VAULT/ITEM/public key, local:secrets/bootstrap/NAME.pub) (default: the -i key's .pub, else the ssh-agent's keys)" },
  loginUser: { kind: 'string', name: 'login-user', placeholder: 'USER', help: 'the user to log in as after the install, for a host whose sshd refuses root (default: found in its config)' },
  skipRekey: { kind: 'boolean', name: 'skip-rekey', help: "install even when some of the host's secrets are not encrypted for it yet (sops updatekeys / agenix --rekey)" },
  allowNoLogin: { kind: 'boolean', name: 'allow-no-login', help: 'install even when no user of the host has an authorized SSH key' },
  allowLockout: { kind: 'boolean', name: 'allow-lockout', help: 'install even when the configuration would shut you out of SSH (sshd off, another port or listen address, firewall, AllowUsers/AllowGroups, login key, tailnet without auth key); recorded in the journal' },
  copyHostKeys: { kind: 'boolean', name: 'copy-host-keys', help: "keep the target's current host keys instead of provisioning ours" },
  buildOn: { kind: 'string', name: 'build-on', placeholder: 'auto|local|remote', help: 'where nixos-anywhere builds the system', choices: BUILD_ON, parse: parseBuildOn },
  noDiskoDeps: { kind: 'boolean', name: 'no-disko-deps', help: 'let disko use the installer tools (saves memory on small machines)' },
  yes: { kind: 'boolean', name: 'yes', short: 'y', help: 'do not ask; a wipe also needs --confirm-disk (rebuild: the manifest disk)' },
  confirmDisk: { kind: 'string', name: 'confirm-disk', placeholder: 'BY-ID', help: 'the disk that may be wiped, for scripts' },
  waitTimeout: { kind: 'integer', name: 'wait-timeout', placeholder: 'SECONDS', help: 'how long to wait for the rebooted host, over its tailnet name when SSH is open only on tailscale0 (default 600)', min: 1, max: 86_400 },
  postKexecPort: { kind: 'integer', name: 'post-kexec-port', placeholder: 'PORT', help: "the port the kexec installer's sshd listens on (default 22)", min: 1, max: 65_535 },
  kexecFrom: { kind: 'string', name: 'kexec-from', placeholder: 'local|url|cache', help: "where the kexec installer image comes from instead of upstream's unpinned download: local (--kexec-image, uploaded from here), url (--kexec-url, downloaded by the target) or cache (the fleet storage, `bootstrap cache kexec-image`); always with --kexec-sha256", choices: KEXEC_FROM, parse: parseKexecFrom },
  kexecImage: { kind: 'string', name: 'kexec-image', placeholder: 'FILE', help: 'the kexec installer tarball to upload from here instead of the target downloading it (implies --kexec-from local; needs --kexec-sha256)', parse: (t) => resolve(t) },
  kexecUrl: { kind: 'string', name: 'kexec-url', placeholder: 'URL', help: 'an http(s) URL of the kexec installer tarball the target downloads and hashes before kexec (implies --kexec-from url; needs --kexec-sha256)' },
  kexecSha256: { kind: 'string', name: 'kexec-sha256', placeholder: 'HEX', help: 'the SHA-256 the kexec image must have: a local file is checked here before anything runs and again before the call, a downloaded one on the target before the installer runs and again right before kexec' },
  phaseTimeouts: { kind: 'repeatable', name: 'phase-timeout', placeholder: 'PHASE=DURATION', help: `time limit of an installer phase (defaults ${describeDefaultTimeouts()})`, parse: parsePhaseTimeoutFlags },
} satisfies Record<string, ChoiceFlag>;

export type ChoiceKey = keyof typeof CHOICE_FLAGS;
export const CHOICE_KEYS = Object.keys(CHOICE_FLAGS) as ChoiceKey[];

/** The flag a choice is given with (`--name`), or for `host` the HOST argument. */
export function flagOf(key: ChoiceKey): ChoiceFlag {
  return CHOICE_FLAGS[key];
}

/** How a question names what answers it without a terminal: "--disk DISK", "HOST (the first argument)". */
export function flagHint(key: ChoiceKey): string {
  const f = flagOf(key);
  if (f.kind === 'positional') return `${f.name} (the first argument)`;
  return 'placeholder' in f ? `--${f.name} ${f.placeholder}` : `--${f.name}`;
}

function parseKexecFrom(text: string): (typeof KEXEC_FROM)[number] {
  if (!(KEXEC_FROM as readonly string[]).includes(text)) throw usageError('bad-flag', `--kexec-from must be local, url or cache, got "${text.slice(0, 40)}"`, 'local: --kexec-image FILE; url: --kexec-url URL; cache: an image put with `bootstrap cache kexec-image FILE`');
  return text as (typeof KEXEC_FROM)[number];
}

function parseBuildOn(text: string): (typeof BUILD_ON)[number] {
  if (!(BUILD_ON as readonly string[]).includes(text)) throw usageError('bad-flag', `--build-on must be auto, local or remote, got "${text}"`);
  return text as (typeof BUILD_ON)[number];
}

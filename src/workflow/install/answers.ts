/**
 * Every answer an install needs, from flags, an answers file (`--answers FILE`, TOML or JSON) or
 * prompts. Flags and the file fill the same object, so the wizard and a script follow one code
 * path (`answers.disk ?? await ask(...)`). Flags win over the file.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseTomlFile } from '../../config/load.js';
import { parseWith } from '../../config/validate.js';
import { usageError } from '../../errors.js';
import { parsePhaseTimeouts } from '../../installer/installer-session.js';
import { findLayout } from '../../render/disko/index.js';
import { checkHostName, checkSecondDiskFits, parseSize } from '../../render/plan-choices.js';

export const InstallAnswersSchema = z
  .object({
    host: z.string().describe('host name, e.g. web1'),
    target: z.string().describe('user@host[:port] of the machine to install'),
    identity: z.string().describe('SSH private key to log in with'),
    hostKey: z.string().describe('SHA256 fingerprint of the target host key (pins without asking)'),
    acceptNewHostKey: z.boolean().describe('trust an unknown target host key on first contact'),
    timeout: z.number().positive().describe('SSH connect timeout in seconds'),
    passwordEnv: z.string().describe('environment variable holding an SSH password'),
    profile: z.string(),
    layout: z.string(),
    disk: z.string().describe('install disk: by-id path, kernel name or /dev path'),
    secondDisk: z.string(),
    swap: z.string().describe('swap size, e.g. 8G or 0'),
    hibernate: z.boolean(),
    encrypt: z.boolean(),
    subvolumes: z.array(z.string()),
    loginKeys: z.array(z.string()).describe("public keys (or .pub files) that may log in as root on the installed host; default: the -i key's .pub, else the ssh-agent's keys"),
    skipRekey: z.boolean().describe('install even when some of the host\'s secrets are not encrypted for it yet'),
    allowNoLogin: z.boolean().describe('install even when no user of the host has an authorized SSH key'),
    copyHostKeys: z.boolean().describe("keep the target's current host keys instead of provisioning ours"),
    buildOn: z.enum(['auto', 'local', 'remote']),
    noDiskoDeps: z.boolean(),
    yes: z.boolean().describe('do not ask; needs confirmDisk for a wipe'),
    confirmDisk: z.string().describe('the by-id path (or /dev path) of the disk that may be wiped'),
    waitTimeout: z.number().positive().describe('seconds to wait for the rebooted host (default 600)'),
    postKexecPort: z.number().int().min(1).max(65535).describe("the port the kexec installer's sshd listens on (default 22)"),
    phaseTimeouts: z.record(z.string(), z.union([z.string(), z.number()])).describe('per-phase time limits, e.g. { install = "2h" }'),
  })
  .partial()
  .strict();

export type InstallAnswers = z.infer<typeof InstallAnswersSchema>;

/** Read an answers file: JSON when it ends in .json, TOML otherwise. */
export async function readAnswersFile(cwd: string, file: string): Promise<InstallAnswers> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (e) {
    throw usageError('bad-answers-file', `--answers ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'give the path of an answers file (TOML or JSON)');
  }
  let raw: unknown;
  if (file.endsWith('.json')) {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw usageError('bad-answers-file', `${file} is not valid JSON (${(e as Error).message.split('\n')[0]})`, `fix ${file}`);
    }
  } else raw = parseTomlFile(text, file);
  const answers = parseWith(InstallAnswersSchema, raw, file, `fix ${file}; see \`bootstrap new-host --help\` for the keys (camelCase of the flags)`);
  // The file's own phaseTimeouts object: parsing copies keys, and a "__proto__" key would vanish.
  const rawTimeouts = (raw as { phaseTimeouts?: Record<string, string | number> }).phaseTimeouts;
  if (rawTimeouts) parsePhaseTimeouts(rawTimeouts);
  return checkAnswers(answers, (key) => `${file}: ${key}`);
}

/**
 * Answer values that need no target (host name, swap size, layout name, a second disk for that
 * layout, phase timeouts) are bad input as soon as they are read: refused before any connection,
 * not when the plan first needs them. Also run on the merged answers (file, flags, manifest).
 */
export function checkAnswers(a: InstallAnswers, where: (key: string) => string = (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`): InstallAnswers {
  if (a.host !== undefined) checkHostName(a.host);
  if (a.swap !== undefined) parseSize(a.swap, where('swap'));
  if (a.layout !== undefined) checkSecondDiskFits(findLayout(a.layout), a.secondDisk);
  if (a.phaseTimeouts) parsePhaseTimeouts(a.phaseTimeouts);
  return a;
}

/** File answers overlaid with flag answers (flags win); undefined members dropped. */
export function mergeAnswers(...layers: InstallAnswers[]): InstallAnswers {
  const out: Record<string, unknown> = {};
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  return out as InstallAnswers;
}

/** What may be saved for --resume: no confirmation (it must be given again), nothing secret. */
export function buildResumableAnswers(a: InstallAnswers): InstallAnswers {
  const { yes: _yes, confirmDisk: _confirm, ...rest } = a;
  return rest;
}

/** How an install command runs, besides its answers: shared by new-host, rebuild and recover. */
export interface InstallRunFlags {
  answers: InstallAnswers;
  flakeDir: string;
  resume: boolean;
  from?: string;
  dryRun: boolean;
  json: boolean;
}

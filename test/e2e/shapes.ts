/**
 * Helpers for flake-shapes.e2e.test.ts: the flake files as data (what an install changed), real age
 * round trips with the age CLI, sops metadata (the data key age-encrypted per recipient, as sops
 * writes it) and an `sops updatekeys` / `agenix --rekey` done with the age CLI (neither tool is
 * installed here), a login with the operator's key, and a leak scan for stores without a local vault.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabTarget } from '../helpers/installer-lab.js';
import { readTree, secretNeedles, type Flake } from './harness.js';

/** The flake's own files (not .bootstrap/, the runtime dir, the local vault or the operator key), path → text. */
export function flakeFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const skip = new Set(['.bootstrap', '.run', '.admin-age.txt', 'secrets/bootstrap']);
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (skip.has(p)) continue;
      if (e.isDirectory()) walk(p);
      else out.set(p, readFileSync(join(dir, p), 'latin1'));
    }
  };
  walk('');
  return out;
}

/** What an install did to the flake's files: created and changed paths (sorted), removed ones. */
export function flakeDiff(before: Map<string, string>, after: Map<string, string>): { created: string[]; changed: string[]; removed: string[] } {
  const created = [...after.keys()].filter((p) => !before.has(p)).sort();
  const changed = [...after.keys()].filter((p) => before.has(p) && before.get(p) !== after.get(p)).sort();
  const removed = [...before.keys()].filter((p) => !after.has(p)).sort();
  return { created, changed, removed };
}

/** The lines of `after` that `before` does not have (order kept): what a file gained. */
export function gainedLines(before: string, after: string): string[] {
  const left = before.split('\n');
  return after.split('\n').filter((l) => {
    const i = left.indexOf(l);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

/** `age -d -i IDENTITY` of data (an age X25519 or ssh identity file). */
export function ageDecrypt(identityFile: string, data: Buffer | string): Buffer {
  return execFileSync('age', ['-d', '-i', identityFile], { input: data, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** `age -a -r R…` (age1… recipients) or `-R FILE` (ssh public keys, files). */
export function ageEncrypt(data: Buffer | string, to: { recipients?: string[]; recipientFiles?: string[] }): string {
  const args = ['-a', ...(to.recipients ?? []).flatMap((r) => ['-r', r]), ...(to.recipientFiles ?? []).flatMap((f) => ['-R', f])];
  return execFileSync('age', ['-e', ...args], { input: data }).toString();
}

/** An age payload for `recipient`, decrypted with `identityFile`: the text that came back. */
export function roundTrip(recipient: string, identityFile: string, payload: string): string {
  return ageDecrypt(identityFile, ageEncrypt(payload, { recipients: [recipient] })).toString();
}

/** The recipient an anchor names under `keys:` of a .sops.yaml (`- &host_web1 age1…`). */
export function anchorRecipient(sopsYaml: string, anchor: string): string | undefined {
  return new RegExp(`^\\s*- &${anchor} (age1[0-9a-z]+)`, 'm').exec(sopsYaml)?.[1];
}

/**
 * A sops-encrypted YAML file's shape: a value (opaque here) and the `sops:` metadata, where each age
 * recipient gets the file's data key age-encrypted to it (what sops writes and decrypts first).
 */
export function writeSopsFile(path: string, dataKey: Buffer, recipients: string[]): void {
  const stanzas = recipients.map((r) => `        - recipient: ${r}\n          enc: |\n${ageEncrypt(dataKey, { recipients: [r] }).trimEnd().split('\n').map((l) => `            ${l}`).join('\n')}\n`);
  writeFileSync(
    path,
    'db_password: ENC[AES256_GCM,data:c2VjcmV0,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n' +
      `sops:\n    age:\n${stanzas.join('')}    lastmodified: "2026-11-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:bWFj,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.9.0\n`,
  );
}

/** recipient → its armored `enc` of a sops file written as above. */
export function sopsStanzas(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/- recipient: (age1[0-9a-z]+)\n\s+enc: \|\n((?:\s+.*\n)+?)\s+-----END AGE ENCRYPTED FILE-----/g)) {
    out.set(m[1]!, m[2]!.split('\n').map((l) => l.trim()).join('\n') + '-----END AGE ENCRYPTED FILE-----\n');
  }
  return out;
}

/** `sops updatekeys` with age: the data key, opened with an admin identity, re-encrypted for every recipient. */
export function sopsUpdateKeys(path: string, adminIdentityFile: string, recipients: string[]): void {
  const stanzas = sopsStanzas(readFileSync(path, 'utf8'));
  let dataKey: Buffer | undefined;
  for (const enc of stanzas.values()) {
    try {
      dataKey = ageDecrypt(adminIdentityFile, enc);
      break;
    } catch {
      /* not the admin's stanza */
    }
  }
  assert.ok(dataKey, `no stanza of ${path} opens with the admin identity`);
  writeSopsFile(path, dataKey, recipients);
}

/** `agenix --rekey` for one secret: decrypted with the admin's ssh key, encrypted to the given ssh public keys. */
export function agenixRekey(path: string, adminSshKey: string, publicKeys: string[]): void {
  const plain = ageDecrypt(adminSshKey, readFileSync(path));
  const tmp = mkdtempSync(join(tmpdir(), 'nb-rekey-'));
  try {
    const files = publicKeys.map((k, i) => {
      const f = join(tmp, `${i}.pub`);
      writeFileSync(f, `${k}\n`);
      return f;
    });
    writeFileSync(path, ageEncrypt(plain, { recipientFiles: files }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The operator logs in to the installed host with the key the answers named, the host presenting
 * exactly `hostPub` (StrictHostKeyChecking=yes against only that key). Returns what `id -un` printed.
 */
export function operatorLogin(t: LabTarget, hostPub: string): string {
  const tmp = mkdtempSync(join(tmpdir(), 'nb-login-'));
  try {
    const kh = join(tmp, 'known_hosts');
    const name = t.port === 22 ? t.ip : `[${t.ip}]:${t.port}`;
    writeFileSync(kh, `${name} ${hostPub.trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
    return execFileSync('ssh', ['-p', String(t.port), '-i', t.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${kh}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10', `root@${t.ip}`, 'id -un'], { stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A file on the installed target's disk (its /mnt). */
export function onTarget(t: LabTarget, path: string): string {
  return join(t.dir.mnt, path.replace(/^\/+/, ''));
}

/** The target's 0600 files (paths as the installed system sees them, without /mnt). */
export function targetSecretFiles(t: LabTarget): string[] {
  return t
    .mntFiles()
    .filter((e) => e.type === 'file' && e.mode === '600' && !e.path.startsWith('/mnt/.'))
    .map((e) => e.path.replace(/^\/mnt/, ''))
    .sort();
}

/** The leak scan of harness.ts for secrets given here (a store without a local vault, a token). */
export function assertNoLeaksOf(f: Flake, secrets: string[]): number {
  const needles = secretNeedles(...secrets);
  assert.ok(needles.length > 0, 'the leak scan has nothing to look for');
  const haystack = f.printed.join('\n') + readTree(join(f.dir, '.bootstrap')) + (existsSync(join(f.dir, 'hosts')) ? readTree(join(f.dir, 'hosts')) : '');
  for (const n of needles) if (haystack.includes(n)) throw new Error(`a secret leaked (${n.slice(0, 4)}…)`);
  return needles.length;
}

export const randomPayload = (label: string): string => `${label} ${randomBytes(12).toString('hex')}`;
